package domain_test

import (
	"strings"
	"testing"

	"studio/domain"
)

func TestCleanDisplayName(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
		ok             bool
	}{
		{"plain", "Office", "Office", true},
		{"trimmed", "  Office  ", "Office", true},
		{"trimmed tabs and newlines at the ends", "\t\nOffice\r\n ", "Office", true},
		{"inner spaces kept", "Main  office", "Main  office", true},
		{"unicode", "Ærøskøbing – 北京 😀", "Ærøskøbing – 北京 😀", true},
		{"empty", "", "", false},
		{"only spaces", "    ", "", false},
		{"only whitespace", " \t\r\n ", "", false},
		{"100 ascii", strings.Repeat("a", 100), strings.Repeat("a", 100), true},
		{"101 ascii", strings.Repeat("a", 101), "", false},
		{"100 two-byte runes", strings.Repeat("é", 100), strings.Repeat("é", 100), true},
		{"101 two-byte runes", strings.Repeat("é", 101), "", false},
		{"100 four-byte runes", strings.Repeat("😀", 100), strings.Repeat("😀", 100), true},
		{"101 four-byte runes", strings.Repeat("😀", 101), "", false},
		{"100 after trimming", "   " + strings.Repeat("b", 100) + "   ", strings.Repeat("b", 100), true},
		{"inner tab", "a\tb", "", false},
		{"inner newline", "a\nb", "", false},
		{"inner carriage return", "a\rb", "", false},
		{"NUL", "a\x00b", "", false},
		{"bell", "a\x07b", "", false},
		{"escape", "a\x1b[31mb", "", false},
		{"DEL", "a\x7fb", "", false},
		{"C1 NEL", "a\u0085b", "", false},
		{"C1 CSI", "a\u009bb", "", false},
		{"invalid utf-8", "a\xffb", "", false},
		{"truncated utf-8", "ab\xc3", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := domain.CleanDisplayName("displayName", c.in)
			if c.ok {
				if err != nil || got != c.want {
					t.Errorf("CleanDisplayName(%q) = %q, %v; want %q, nil", c.in, got, err, c.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("CleanDisplayName(%q) = %q, nil; want an error", c.in, got)
			}
			if domain.ErrorCode(err) != domain.EINVALID {
				t.Errorf("code = %q, want %q", domain.ErrorCode(err), domain.EINVALID)
			}
			if msg, ok := domain.FieldErrors(err)["displayName"]; !ok || msg == "" {
				t.Errorf("error does not name the field: %v", domain.FieldErrors(err))
			}
			if got != "" {
				t.Errorf("returned %q alongside an error", got)
			}
		})
	}
	if _, err := domain.CleanDisplayName("name", ""); domain.FieldErrors(err)["name"] == "" {
		t.Errorf("field name is not passed through: %v", domain.FieldErrors(err))
	}
}

func TestCleanEmail(t *testing.T) {
	// host of the given length (letters then ".com").
	host := func(n int) string { return strings.Repeat("h", n-4) + ".com" }
	local64 := strings.Repeat("l", 64)
	for _, c := range []struct {
		name, in, want string
		ok             bool
	}{
		{"plain", "alice@example.com", "alice@example.com", true},
		{"lower-cased", "Alice@Example.COM", "alice@example.com", true},
		{"trimmed", "  alice@example.com\t\n", "alice@example.com", true},
		{"plus and dots", "a.b+tag@mail.example.co.uk", "a.b+tag@mail.example.co.uk", true},
		{"254 long", local64 + "@" + host(254-65), local64 + "@" + host(254-65), true},
		{"255 long", local64 + "@" + host(255-65), "", false},
		{"upper-case 254", strings.ToUpper(local64 + "@" + host(254-65)), local64 + "@" + host(254-65), true},
		{"empty", "", "", false},
		{"spaces", "   ", "", false},
		{"no at", "alice.example.com", "", false},
		{"no local", "@example.com", "", false},
		{"no host", "alice@", "", false},
		{"host without dot", "alice@localhost", "", false},
		{"host starts with dot", "alice@.example.com", "", false},
		{"host ends with dot", "alice@example.com.", "", false},
		{"two ats", "alice@bob@example.com", "", false},
		{"inner space", "al ice@example.com", "", false},
		{"space in host", "alice@exa mple.com", "", false},
		{"tab", "al\tice@example.com", "", false},
		{"newline", "alice@example.com\nbcc@evil.com", "", false},
		{"angle brackets", "<alice@example.com>", "", false},
		{"quotes", `"alice"@example.com`, "", false},
		{"comma", "alice,bob@example.com", "", false},
		{"semicolon", "alice;bob@example.com", "", false},
		{"colon", "mailto:alice@example.com", "", false},
		{"parens", "alice(x)@example.com", "", false},
		{"backslash", `ali\ce@example.com`, "", false},
		{"NUL", "alice\x00@example.com", "", false},
		{"invalid utf-8", "ali\xffce@example.com", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := domain.CleanEmail("email", c.in)
			if c.ok {
				if err != nil || got != c.want {
					t.Errorf("CleanEmail(%q) = %q, %v; want %q, nil", c.in, got, err, c.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("CleanEmail(%q) = %q, nil; want an error", c.in, got)
			}
			if domain.ErrorCode(err) != domain.EINVALID {
				t.Errorf("code = %q, want %q", domain.ErrorCode(err), domain.EINVALID)
			}
			if domain.FieldErrors(err)["email"] == "" {
				t.Errorf("error does not name the field: %v", domain.FieldErrors(err))
			}
		})
	}
}

func TestCheckNewPassword(t *testing.T) {
	for _, c := range []struct {
		name, pw string
		ok       bool
	}{
		{"11 chars", strings.Repeat("a", 11), false},
		{"12 chars", strings.Repeat("a", 12), true},
		{"typical", "correct horse battery staple", true},
		{"256 chars", strings.Repeat("a", 256), true},
		{"257 chars", strings.Repeat("a", 257), false},
		{"11 two-byte runes (22 bytes)", strings.Repeat("é", 11), false},
		{"12 two-byte runes", strings.Repeat("é", 12), true},
		{"256 four-byte runes", strings.Repeat("😀", 256), true},
		{"257 four-byte runes", strings.Repeat("😀", 257), false},
		{"empty", "", false},
		{"12 spaces", strings.Repeat(" ", 12), false},
		{"only whitespace", strings.Repeat(" \t\n", 6), false},
		{"spaces around a word", "   password   ", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := domain.CheckNewPassword("new", c.pw)
			if c.ok {
				if err != nil {
					t.Errorf("CheckNewPassword(%q) = %v, want nil", c.pw, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckNewPassword(%q) = nil, want an error", c.pw)
			}
			if domain.ErrorCode(err) != domain.EINVALID || domain.FieldErrors(err)["new"] == "" {
				t.Errorf("error = %v (fields %v), want invalid on field \"new\"", err, domain.FieldErrors(err))
			}
		})
	}
}
