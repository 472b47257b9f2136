package domain_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"studio/domain"
)

func TestCursorRoundTrip(t *testing.T) {
	cursors := []domain.Cursor{
		{Key: "alpha", ID: "c18rs36olv9021epsv2g"},
		{Key: "", ID: ""},
		{Key: "", ID: "42"},
		{Key: "only key", ID: ""},
		{Key: `he said "hi"`, ID: "c18rs36olv9021epsv2g"},
		{Key: `" "`, ID: `" "`},
		{Key: `a" "b`, ID: `c" "d`},
		{Key: `"`, ID: `"`},
		{Key: `\`, ID: `\"`},
		{Key: `trailing backslash\`, ID: `x\`},
		{Key: "  spaces  around  ", ID: " id with spaces "},
		{Key: "ærøskøbing – 北京 😀", ID: "ünïcödé"},
		{Key: "tab\tnew\nline\x00nul", ID: "\x7f"},
		{Key: "\u200b zero width \u2028 line sep", ID: "1"},
		{Key: "c1:\"nested\" \"token\"", ID: "c1:"},
		{Key: "invalid utf8 \xff\xfe", ID: "\xc3"},
		{Key: strings.Repeat("é", 100), ID: "c18rs36olv9021epsv2g"},
		{Key: strings.Repeat("\u200b", 100), ID: "c18rs36olv9021epsv2g"},
	}
	for _, c := range cursors {
		tok := domain.EncodeCursor(testListing, c)
		if tok == "" {
			t.Errorf("EncodeCursor(%+q) = \"\" (that is the first-page token)", c)
			continue
		}
		// Opaque and safe in a query string without escaping.
		if strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Errorf("EncodeCursor(%+q) = %q is not URL safe", c, tok)
		}
		got, err := domain.DecodeCursor(testListing, tok)
		if err != nil {
			t.Errorf("DecodeCursor(EncodeCursor(%+q)) error: %v", c, err)
			continue
		}
		if got != c {
			t.Errorf("round trip of %+q gave %+q", c, got)
		}
	}
}

func TestDecodeCursorEmptyIsFirstPage(t *testing.T) {
	c, err := domain.DecodeCursor(testListing, "")
	if err != nil || !c.IsZero() {
		t.Errorf("DecodeCursor(\"\") = %+v, %v; want zero cursor, nil", c, err)
	}
	if !(domain.Cursor{}).IsZero() {
		t.Error("zero Cursor is not IsZero")
	}
	for _, c := range []domain.Cursor{{Key: "a"}, {ID: "a"}} {
		if c.IsZero() {
			t.Errorf("%+v.IsZero() = true", c)
		}
	}
}

func TestDecodeCursorGarbage(t *testing.T) {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	valid := domain.EncodeCursor(testListing, domain.Cursor{Key: "alpha", ID: "c18rs36olv9021epsv2g"})
	for _, tok := range []string{
		"!!!!",
		"%%%",
		"not a token",
		"abc def",
		valid + "=",                    // padding is not part of the encoding
		valid + "!",                    // stray character
		"+/+/",                         // standard, not URL alphabet
		b64("hello"),                   // no prefix
		b64(`c1:`),                     // nothing after the prefix
		b64(`c1:"alpha"`),              // no separator
		b64(`c1:"alpha" `),             // no id
		b64(`c1:"alpha" "c18`),         // unterminated id
		b64(`c1:alpha" "c18"`),         // unquoted key
		b64(`c1:"alpha" "c18" "x"`),    // three parts
		b64(`c2:"alpha" "c18"`),        // unknown version
		b64(`C1:"alpha" "c18"`),        // prefix is case-sensitive
		b64(`c1:"al\qpha" "c18"`),      // bad escape
		b64(strings.Repeat("A", 3000)), // too long
		strings.Repeat("A", 4000),      // too long, valid alphabet
		b64(`c1:"` + "\n" + `" "c18"`), // raw newline inside quotes is not valid Go syntax
	} {
		c, err := domain.DecodeCursor(testListing, tok)
		if err == nil {
			t.Errorf("DecodeCursor(%q) = %+v, nil; want an error", tok, c)
			continue
		}
		if code := domain.ErrorCode(err); code != domain.EINVALID {
			t.Errorf("DecodeCursor(%q) code = %q, want %q", tok, code, domain.EINVALID)
		}
		if _, ok := domain.FieldErrors(err)["pageToken"]; !ok {
			t.Errorf("DecodeCursor(%q) error does not name the pageToken field: %v", tok, domain.FieldErrors(err))
		}
	}
}

func TestParsePageSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{"", 100},
		{"1", 1},
		{"2", 2},
		{"100", 100},
		{"999", 999},
		{"1000", 1000},
	} {
		got, err := domain.ParsePageSize(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParsePageSize(%q) = %d, %v; want %d, nil", c.in, got, err, c.want)
		}
	}
	if domain.DefaultPageSize != 100 || domain.MaxPageSize != 1000 {
		t.Errorf("page size bounds = %d, %d; contract says 100, 1000", domain.DefaultPageSize, domain.MaxPageSize)
	}
	for _, in := range []string{"0", "1001", "-1", "abc", "1.5", "1e3", " 5", "5 ", "0x10", "99999999999999999999", "١٠"} {
		got, err := domain.ParsePageSize(in)
		if err == nil {
			t.Errorf("ParsePageSize(%q) = %d, nil; want an error", in, got)
			continue
		}
		if code := domain.ErrorCode(err); code != domain.EINVALID {
			t.Errorf("ParsePageSize(%q) code = %q, want %q", in, code, domain.EINVALID)
		}
		if _, ok := domain.FieldErrors(err)["pageSize"]; !ok {
			t.Errorf("ParsePageSize(%q) error does not name the pageSize field", in)
		}
	}
}

// testListing is the listing the tokens of these tests belong to.
var testListing = domain.Listing("serviceAccounts", "c18rs36olv9021epsv2g", "")

// A token is read only by the listing it came from: the same kind of list
// under another parent, another kind under the same parent, or the same
// list with another filter all refuse it.
func TestPageTokenBoundToListing(t *testing.T) {
	c := domain.Cursor{Key: "alpha", ID: "c18rs36olv9021epsv2g"}
	tok := domain.EncodeCursor(testListing, c)
	if got, err := domain.DecodeCursor(domain.Listing("serviceAccounts", "c18rs36olv9021epsv2g", ""), tok); err != nil || got != c {
		t.Fatalf("same listing: %+v, %v", got, err)
	}
	for _, other := range []string{
		domain.Listing("serviceAccounts", "c18rs36olv9021epsv30", ""),
		domain.Listing("projectMembers", "c18rs36olv9021epsv2g", ""),
		domain.Listing("serviceAccounts", "c18rs36olv9021epsv2g", "robot"),
		domain.Listing("serviceAccounts", "c18rs36olv9021epsv2g"),
	} {
		got, err := domain.DecodeCursor(other, tok)
		if err == nil {
			t.Errorf("listing %q read the token as %+v", other, got)
			continue
		}
		if domain.ErrorMessage(err) != "The page token is not valid." || domain.FieldErrors(err)["pageToken"] == "" {
			t.Errorf("listing %q: %v", other, err)
		}
	}
}
