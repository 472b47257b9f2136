package domain_test

// Fuzz targets for the parsers and validators that read untrusted input:
// form fields, page tokens and JWT assertions. Seeds are added here with
// f.Add and committed under testdata/fuzz/<FuzzName>/. Run one target with
//
//	go test ./domain -run '^$' -fuzz '^FuzzDecodeCursor$' -fuzztime 20s

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"studio/domain"
)

// wantDomainError fails unless err is a *domain.Error with the code (and,
// when field is set, a message for that field).
func wantDomainError(t *testing.T, err error, code, field string) {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *domain.Error", err, err)
	}
	if de.Code != code {
		t.Fatalf("error code %q, want %q (%v)", de.Code, code, err)
	}
	if field != "" && de.Fields[field] == "" {
		t.Fatalf("error %v has no message for field %q (fields %v)", err, field, de.Fields)
	}
}

// b64 encodes s as a JWT segment.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// textSeeds are tricky strings shared by the form targets.
var textSeeds = []string{
	"",
	" ",
	"Alpha plant",
	"  padded  ",
	"Zürich – Süd",
	"東京の工場",
	"emoji 🚀🔥",
	"line\nbreak",
	"tab\there",
	"nul\x00byte",
	"del\x7f",
	"bidi \u202eevil\u202c",
	"zero\u200bwidth",
	"\ufeffbom",
	"\xff\xfe invalid utf-8",
	"\xc3",
	"\u0085next line",
	"\u00a0nbsp\u00a0",
	"\u2028line separator",
	"Robot\u202Egpj.exe",
	"Ad\u200Bmin",
	"\u3164",
	"\u2800 \u2800",
	"\uFF21\uFF2C\uFF29\uFF23\uFF25\uFF20example.com",
	"p\u0430ypal@example.com",
	"İstanbul",
	"<script>alert(1)</script>",
	"'; DROP TABLE projects; --",
	"%00%0d%0a",
	strings.Repeat("a", 100),
	strings.Repeat("a", 101),
	strings.Repeat("é", 100),
	strings.Repeat("🚀", 101),
	strings.Repeat("x", 5000),
}

func FuzzCleanDisplayName(f *testing.F) {
	for _, s := range textSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := domain.CleanDisplayName("displayName", s)
		if err != nil {
			wantDomainError(t, err, domain.EINVALID, "displayName")
			if out != "" {
				t.Fatalf("refused %q but returned %q", s, out)
			}
			return
		}
		if !utf8.ValidString(out) {
			t.Fatalf("accepted invalid UTF-8 %q", out)
		}
		if n := utf8.RuneCountInString(out); n < 1 || n > domain.MaxDisplayNameLength {
			t.Fatalf("accepted %q with %d characters", out, n)
		}
		if out != strings.TrimSpace(out) || !strings.Contains(s, out) {
			t.Fatalf("CleanDisplayName(%q) = %q: not the trimmed input", s, out)
		}
		for _, r := range out {
			if unicode.IsControl(r) {
				t.Fatalf("accepted control character %U in %q", r, out)
			}
		}
		again, err := domain.CleanDisplayName("displayName", out)
		if err != nil || again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, out, again, err)
		}
	})
}

func FuzzCleanEmail(f *testing.F) {
	for _, s := range textSeeds {
		f.Add(s)
	}
	for _, s := range []string{
		"admin@example.com", " Admin@Example.COM ", "a@b.c", "a@b", "@example.com", "a@", "a@@b.c",
		"a@.b.c", "a@b.c.", "a b@c.d", "a<b>@c.d", `"quoted"@c.d`, "a@b.c\n", "a\x00@b.c",
		"ü@bücher.de", "İ@example.com", "user+tag@sub.example.co.uk", "a@[127.0.0.1]",
		strings.Repeat("a", 243) + "@example.com", strings.Repeat("a", 242) + "@example.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := domain.CleanEmail("email", s)
		if err != nil {
			wantDomainError(t, err, domain.EINVALID, "email")
			return
		}
		if out == "" || len(out) > domain.MaxEmailLength || !utf8.ValidString(out) {
			t.Fatalf("CleanEmail(%q) accepted %q", s, out)
		}
		if strings.ToLower(out) != out {
			t.Fatalf("CleanEmail(%q) = %q: not lower-case", s, out)
		}
		local, host, ok := strings.Cut(out, "@")
		if !ok || local == "" || !strings.Contains(host, ".") || strings.Contains(host, "@") ||
			strings.HasPrefix(host, ".") || strings.HasSuffix(host, ".") {
			t.Fatalf("CleanEmail(%q) = %q: not local@host.tld", s, out)
		}
		for _, r := range out {
			if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`<>()[]\,;:"`, r) {
				t.Fatalf("CleanEmail(%q) = %q: contains %U", s, out, r)
			}
		}
		again, err := domain.CleanEmail("email", out)
		if err != nil || again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, out, again, err)
		}
	})
}

func FuzzCheckNewPassword(f *testing.F) {
	for _, s := range textSeeds {
		f.Add(s)
	}
	for _, s := range []string{
		"correct horse battery", "short", "exactly12chr", "elevenchars", strings.Repeat(" ", 20),
		"\t\n\r\v\f           ", strings.Repeat("p", 256), strings.Repeat("p", 257), strings.Repeat("ü", 256),
		"\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
		"password1234", "PASSWORD1234", "my fuzz password",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		// The account's email is fuzz@example.com: "fuzz" may not be in it.
		err := domain.CheckNewPassword("new", pw, "fuzz@example.com")
		n := utf8.RuneCountInString(pw)
		if err != nil {
			wantDomainError(t, err, domain.EINVALID, "new")
			if n >= domain.MinPasswordLength && n <= domain.MaxPasswordLength && strings.TrimSpace(pw) != "" &&
				!domain.IsCommonPassword(pw) && !strings.Contains(strings.ToLower(pw), "fuzz") {
				t.Fatalf("refused a password of %d characters: %v", n, err)
			}
			return
		}
		if domain.IsCommonPassword(pw) || strings.Contains(strings.ToLower(pw), "fuzz") {
			t.Fatalf("accepted %q: common, or with the email's name in it", pw)
		}
		if n < domain.MinPasswordLength || n > domain.MaxPasswordLength {
			t.Fatalf("accepted a password of %d characters", n)
		}
		if strings.TrimSpace(pw) == "" {
			t.Fatalf("accepted a password of only spaces %q", pw)
		}
	})
}

func FuzzParseMemberID(f *testing.F) {
	for _, s := range []string{
		"1", "42", "0", "-1", "+1", "01", "1.0", " 1", "1 ", "9223372036854775807", "9223372036854775808",
		"18446744073709551616", "0x10", "1e3", "",
		"01HZY3K4N5P6Q7R8S9T0V1W2X3", "01hzy3k4n5p6q7r8s9t0v1w2x3", "01HZY3K4N5P6Q7R8S9T0V1W2X", "01HZY3K4N5P6Q7R8S9T0V1W2X3Z",
		"../../etc/passwd", "users/1", "١٢٣", "\x00", "%31",
	} {
		f.Add(s)
	}
	f.Add(domain.NewID(time.Unix(1_700_000_000, 0)))
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := domain.ParseMemberID(s)
		if err != nil {
			wantDomainError(t, err, domain.ENOTFOUND, "")
			if ref != (domain.AccountRef{}) {
				t.Fatalf("refused %q but returned %+v", s, ref)
			}
			return
		}
		if ref.ID != s {
			t.Fatalf("ParseMemberID(%q) = %+v: id is not the input", s, ref)
		}
		switch ref.Type {
		case domain.AccountUser:
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n <= 0 || strconv.FormatInt(n, 10) != s {
				t.Fatalf("ParseMemberID(%q) took a non-canonical user number", s)
			}
		case domain.AccountServiceAccount:
			if !domain.ValidID(s) {
				t.Fatalf("ParseMemberID(%q) took an invalid service account id", s)
			}
		default:
			t.Fatalf("ParseMemberID(%q) = unknown type %q", s, ref.Type)
		}
	})
}

func FuzzParsePageSize(f *testing.F) {
	for _, s := range []string{
		"", "1", "100", "1000", "1001", "0", "-1", "+5", "007", " 5", "5 ", "1e2", "0x10", "10.0",
		"9223372036854775807", "9223372036854775808", "-9223372036854775809", "99999999999999999999999", "٣", "abc",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := domain.ParsePageSize(s)
		if err != nil {
			wantDomainError(t, err, domain.EINVALID, "pageSize")
			return
		}
		if n < 1 || n > domain.MaxPageSize {
			t.Fatalf("ParsePageSize(%q) = %d: out of range", s, n)
		}
		if s == "" {
			if n != domain.DefaultPageSize {
				t.Fatalf("ParsePageSize(\"\") = %d, want the default %d", n, domain.DefaultPageSize)
			}
			return
		}
		if m, err := strconv.Atoi(s); err != nil || m != n {
			t.Fatalf("ParsePageSize(%q) = %d, but the number is %d (%v)", s, n, m, err)
		}
	})
}

// maxTokenLength is the longest token DecodeCursor reads (page.go).
const maxTokenLength = 2048

func FuzzCursorRoundTrip(f *testing.F) {
	for _, c := range []domain.Cursor{
		{}, {Key: "alpha plant", ID: "01HZY3K4N5P6Q7R8S9T0V1W2X3"}, {ID: "42"}, {Key: "only key"},
		{Key: `quote " inside`, ID: `" "`}, {Key: `" "`, ID: `" "`}, {Key: `\`, ID: `\"`}, {Key: "\" \"\" \"", ID: "\\\" \\\""},
		{Key: "c1:", ID: "c1:"}, {Key: "\x00\n\t\r", ID: "\xff\xfe"}, {Key: "東京 🚀", ID: "\u202e"},
		{Key: "\U000f0000\ue000\u2028", ID: "x"}, {Key: strings.Repeat("\U000f0000", 100), ID: "01HZY3K4N5P6Q7R8S9T0V1W2X3"},
		{Key: strings.Repeat("k", 1400), ID: "1"},
	} {
		f.Add(c.Key, c.ID)
	}
	f.Fuzz(func(t *testing.T, key, id string) {
		c := domain.Cursor{Key: key, ID: id}
		token := domain.EncodeCursor(fuzzListing, c)
		if token == "" {
			t.Fatalf("EncodeCursor(%+v) is empty: it would read as the first page", c)
		}
		if strings.ContainsAny(token, "+/=?&# ") {
			t.Fatalf("EncodeCursor(%+v) = %q: not URL-safe", c, token)
		}
		got, err := domain.DecodeCursor(fuzzListing, token)
		if len(token) > maxTokenLength {
			// Too long to be read back; real cursors (a name of at most 100
			// characters and an id) stay far below the limit.
			if err == nil {
				t.Fatalf("DecodeCursor read a token of %d bytes, over the %d limit", len(token), maxTokenLength)
			}
			wantDomainError(t, err, domain.EINVALID, "pageToken")
			return
		}
		if err != nil {
			t.Fatalf("DecodeCursor(EncodeCursor(%+v)) = %v", c, err)
		}
		if got != c {
			t.Fatalf("round trip %+v -> %q -> %+v", c, token, got)
		}
		// The token belongs to its listing: another one refuses it.
		if other, err := domain.DecodeCursor(domain.Listing("other"), token); err == nil {
			t.Fatalf("a token of one listing read as %+v in another", other)
		}
	})
}

// fuzzListing is the listing the fuzzed tokens belong to.
var fuzzListing = domain.Listing("fuzz", "parent", "filter")

func FuzzDecodeCursor(f *testing.F) {
	for _, s := range []string{
		"", "c1:", "YzE6", "not base64!", "====", "YzE6IiIgIiI", "YzE6IiIgIiI=", "YzE6IiIgIiI\n",
		base64.StdEncoding.EncodeToString([]byte(`c1:"a" "b"`)),
		b64(`c1:"a" "b"`), b64(`c1:"a"  "b"`), b64(`c1:"a" "b" "c"`), b64(`c1:"a\" \"b" "c"`), b64(`c1:"\x41" "\u00e9"`),
		b64(`c1:"\xff" "\U0010ffff"`), b64(`c1:"\U00110000" "x"`), b64(`c1:"a` + "\n" + `" "b"`), b64("c1:\"\xff\" \"b\""),
		b64(`c1:'a' "b"`), b64("c1:`a` \"b\""), b64(`c2:"a" "b"`), b64(`c1:"a" "b`), b64(`c1:"a`), b64(`c1:" "`),
		b64(`c1:"" ""`) + "A", b64(`c1:"` + strings.Repeat("x", 1600) + `" ""`),
		strings.Repeat("A", 2049), "\x00", "🚀",
	} {
		f.Add(s)
	}
	f.Add(domain.EncodeCursor(fuzzListing, domain.Cursor{Key: "a", ID: "b"}))
	f.Fuzz(func(t *testing.T, token string) {
		c, err := domain.DecodeCursor(fuzzListing, token)
		if err != nil {
			wantDomainError(t, err, domain.EINVALID, "pageToken")
			if !c.IsZero() {
				t.Fatalf("refused %q but returned %+v", token, c)
			}
			return
		}
		if token == "" {
			if !c.IsZero() {
				t.Fatalf(`DecodeCursor("") = %+v, want the first page`, c)
			}
			return
		}
		// Anything accepted re-encodes to a token that reads the same.
		again := domain.EncodeCursor(fuzzListing, c)
		back, err := domain.DecodeCursor(fuzzListing, again)
		if err != nil || back != c {
			t.Fatalf("DecodeCursor(%q) = %+v, re-encoded %q reads %+v, %v", token, c, again, back, err)
		}
	})
}

// jwtSeeds are assertions, valid and not.
func jwtSeeds() []string {
	head := b64(`{"alg":"HS256","kid":"01HZY3K4N5P6Q7R8S9T0V1W2X3","typ":"JWT"}`)
	claims := b64(`{"iss":"sa@d21s.com","aud":"http://studio.test/oauth2/token","iat":1700000000,"exp":1700003600}`)
	sig := b64(strings.Repeat("s", 32))
	return []string{
		"", ".", "..", "...", "a.b.c", head + "." + claims + "." + sig, head + "." + claims + ".",
		head + "." + claims, head + "." + claims + "." + sig + ".extra",
		b64(`{"alg":"none","kid":"k"}`) + "." + claims + ".",
		b64(`{"alg":"none"}`) + "." + b64(`{}`) + ".",
		b64(`{"alg":"HS256","kid":"k"} trailing`) + "." + claims + "." + sig,
		b64(`{"alg":"HS256","kid":"a","kid":"b"}`) + "." + claims + "." + sig,
		b64(`{"ALG":"HS256","KID":"k"}`) + "." + claims + "." + sig,
		b64(`{"alg":1,"kid":["k"]}`) + "." + claims + "." + sig,
		b64(`null`) + "." + b64(`null`) + "." + sig,
		b64(`[]`) + "." + b64(`"x"`) + "." + sig,
		b64(`{"kid":"k"}`) + "." + b64(`{"iat":1e400,"exp":-1,"aud":["a","b"],"iss":{"nested":{"deep":[1,2,3]}}}`) + "." + sig,
		b64(`{"kid":"k"}`) + "." + b64(`{"iat":"1700000000","exp":9999999999999999999999}`) + "." + sig,
		b64(`{"kid":"\u0000\ud800"}`) + "." + b64(`{}`) + "." + sig,
		base64.URLEncoding.EncodeToString([]byte(`{"kid":"padded"}`)) + "." + claims + "." + sig,
		base64.StdEncoding.EncodeToString([]byte(`{"kid":"std/+"}`)) + "." + claims + "." + sig,
		head + "." + claims + ".!!!",
		strings.Repeat("A", 1025) + "." + claims + "." + sig,
		head + "." + strings.Repeat("A", 8200) + "." + sig,
		"eyJ.eyJ.eyJ", "\x00.\x00.\x00", "🚀.🚀.🚀",
	}
}

func FuzzParseAssertion(f *testing.F) {
	for _, s := range jwtSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, assertion string) {
		kid := domain.AssertionKeyID(assertion) // must not panic, whatever it returns
		a, err := domain.ParseAssertion(assertion)
		if err != nil {
			var oe *domain.OAuthError
			if !errors.As(err, &oe) || oe.Code != "invalid_grant" {
				t.Fatalf("ParseAssertion error %v (%T), want an invalid_grant *domain.OAuthError", err, err)
			}
			return
		}
		parts := strings.Split(assertion, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted %q with %d parts", assertion, len(parts))
		}
		if len(assertion) > 8192 {
			t.Fatalf("accepted an assertion of %d bytes", len(assertion))
		}
		if a.SigningInput != parts[0]+"."+parts[1] {
			t.Fatalf("SigningInput %q, want the first two parts of %q", a.SigningInput, assertion)
		}
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil || string(sig) != string(a.Signature) {
			t.Fatalf("Signature %x is not the third part %q decoded", a.Signature, parts[2])
		}
		// When the key id reader understands the header, it reads the same kid
		// as the parser. (It may give up on a header the parser takes, such as
		// one with text after the JSON: then it returns "".)
		if kid != "" && kid != a.Header.Kid {
			t.Fatalf("AssertionKeyID = %q, but ParseAssertion read kid %q", kid, a.Header.Kid)
		}
	})
}

func FuzzAssertionKeyID(f *testing.F) {
	for _, s := range jwtSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, assertion string) {
		kid := domain.AssertionKeyID(assertion)
		if kid == "" {
			return
		}
		// It reads the header exactly as the exchange does (so no header can
		// slip past the per-key limit and still name a key): a kid only from
		// an assertion ParseAssertion takes, and the same kid. This test once
		// also wanted a header of at most 1 KB, which the parser never
		// promised (it bounds the whole assertion at 8 KB); testdata keeps
		// the 2.4 KB header the fuzzer found against that.
		head, _, ok := strings.Cut(assertion, ".")
		a, err := domain.ParseAssertion(assertion)
		if !ok || err != nil || a.Header.Kid != kid || len(assertion) > 8192 {
			t.Fatalf("AssertionKeyID(%.80q...) = %q, but ParseAssertion reads kid %q, %v", assertion, kid, a.Header.Kid, err)
		}
		// Each decoded byte gives at most 3 bytes (an invalid byte becomes U+FFFD).
		if len(kid) > 3*len(head) {
			t.Fatalf("AssertionKeyID returned %d bytes from a header of %d", len(kid), len(head))
		}
	})
}
