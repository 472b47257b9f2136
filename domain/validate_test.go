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
		// Invisible characters (issue 11): bidi controls, zero-width ones.
		{"right-to-left override", "Robot\u202Egpj.exe", "", false},
		{"left-to-right override", "\u202DAdmin", "", false},
		{"right-to-left isolate", "a\u2067b\u2069", "", false},
		{"pop directional formatting", "a\u202Cb", "", false},
		{"right-to-left mark", "Admin\u200F", "", false},
		{"left-to-right mark", "\u200EAdmin", "", false},
		{"Arabic letter mark", "a\u061Cb", "", false},
		{"zero-width space", "Ad\u200Bmin", "", false},
		{"zero-width non-joiner", "Ad\u200Cmin", "", false},
		{"zero-width joiner", "Ad\u200Dmin", "", false},
		{"word joiner", "Ad\u2060min", "", false},
		{"byte order mark", "\uFEFFAdmin", "", false},
		{"soft hyphen", "Ad\u00ADmin", "", false},
		{"invisible times", "a\u2062b", "", false},
		{"tag characters", "Flag\U000E0067\U000E0062", "", false},
		{"only zero-width spaces", "\u200B\u200B", "", false},
		// Blank-looking names.
		{"Hangul filler", "\u3164", "", false},
		{"Hangul fillers and spaces", " \u3164 \u3164 ", "", false},
		{"Hangul choseong filler", "\u115F\u1160", "", false},
		{"halfwidth Hangul filler", "\uFFA0", "", false},
		{"braille blank", "\u2800\u2800\u2800", "", false},
		{"ideographic spaces", "\u3000\u3000", "", false},
		{"variation selector only", "\uFE0F", "", false},
		{"combining accent only", "\u0301", "", false},
		{"combining grapheme joiner", "\u034F", "", false},
		// Visible names with such characters beside letters stay.
		{"filler inside a name", "Kim\u3164Lee", "Kim\u3164Lee", true},
		{"emoji with a variation selector", "\u2764\uFE0F team", "\u2764\uFE0F team", true},
		{"combining accent on a letter", "Jose\u0301", "Jose\u0301", true},
		{"Arabic", "\u0645\u0643\u062A\u0628", "\u0645\u0643\u062A\u0628", true},
		{"Hebrew and digits", "\u05E9\u05DC\u05D5\u05DD 2", "\u05E9\u05DC\u05D5\u05DD 2", true},
		{"punctuation only", "—", "—", true},
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
		// NFKC and lower case (issue 11): one address, one account.
		{"full-width letters", "\uFF21\uFF2C\uFF29\uFF23\uFF25@\uFF45xample.com", "alice@example.com", true},
		{"full-width at sign", "alice\uFF20example.com", "alice@example.com", true},
		{"ligature", "\uFB01nance@example.com", "finance@example.com", true},
		{"black-letter capital", "\u210Cans@example.com", "hans@example.com", true},
		{"mathematical bold", "\U0001D41A\U0001D41B@example.com", "ab@example.com", true},
		{"decomposed umlaut", "u\u0308@b\u00FCcher.de", "\u00FC@b\u00FCcher.de", true},
		{"full-width angle brackets", "\uFF1Calice\uFF1E@example.com", "", false},
		{"ideographic space", "alice\u3000@example.com", "", false},
		{"zero-width space", "ali\u200Bce@example.com", "", false},
		{"zero-width joiner in host", "alice@exa\u200Dmple.com", "", false},
		{"right-to-left override", "alice@\u202Emoc.elpmaxe", "", false},
		{"byte order mark", "\uFEFFalice@example.com", "", false},
		{"soft hyphen", "ali\u00ADce@example.com", "", false},
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
		// Common passwords (issue 11), in any case.
		{"common", "password1234", false},
		{"common, capitals", "PassWord1234", false},
		{"common, digits", "012345678910", false},
		{"common keyboard walk", "1q2w3e4r5t6y", false},
		{"common with a character more", "password12345!", true},
		// The email's local part (alice@example.com), in any case.
		{"email name inside", "my alice password", false},
		{"email name in capitals", "ALICE-is-great-2024", false},
		{"email name alone with digits", "alice1234567", false},
		{"another name", "bob-is-great-2024", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := domain.CheckNewPassword("new", c.pw, "Alice@Example.com")
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

func TestEmailScriptWarning(t *testing.T) {
	for _, c := range []struct {
		email string
		warn  bool
	}{
		{"paypal@example.com", false},
		{"p\u0430ypal@example.com", true}, // Cyrillic а among Latin
		{"alice@\u0430pple.com", true},    // Cyrillic а in the host
		{"\u03B1lice@example.com", true},  // Greek α
		{"\u0438\u0432\u0430\u043D@\u043F\u0440\u0438\u043C\u0435\u0440.\u0440\u0444", false}, // all Cyrillic
		{"\u0438\u0432\u0430\u043D@example.com", true},                                        // Cyrillic and Latin
		{"\u5C71\u7530@\u4F8B\u3048.jp", false},                                               // Han, Hiragana and Latin: Japanese
		{"\uD64D\uAE38\uB3D9@\uC608\uC81C.kr", false},                                         // Hangul and Latin: Korean
		{"\u5C71\u7530@\u0440\u0444.com", true},                                               // Han and Cyrillic
		{"\u00FC@b\u00FCcher.de", false},
		{"123-456@example.com", false},
		{"\u05E9\u05DC\u05D5\u05DD@example.com", true}, // Hebrew and Latin
	} {
		got := domain.EmailScriptWarning(c.email)
		if (got != "") != c.warn {
			t.Errorf("EmailScriptWarning(%q) = %q, want a warning: %v", c.email, got, c.warn)
		}
	}
	if got := domain.EmailScriptWarning("p\u0430ypal@example.com"); !strings.Contains(got, "Cyrillic and Latin") {
		t.Errorf("the warning does not name the scripts: %q", got)
	}
}

func TestCheckNewPasswordShortEmailNames(t *testing.T) {
	// Local parts under 3 characters are in too many good passwords.
	if err := domain.CheckNewPassword("new", "al dente spaghetti", "al@example.com"); err != nil {
		t.Errorf("a two-letter email name refused a password: %v", err)
	}
	if err := domain.CheckNewPassword("new", "bob's burgers rock", "bob@example.com"); err == nil {
		t.Error("a three-letter email name inside the password was accepted")
	}
	if err := domain.CheckNewPassword("new", "anything goes here", ""); err != nil {
		t.Errorf("no email: %v", err)
	}
	if msg := domain.FieldErrors(domain.CheckNewPassword("new", "bob's burgers rock", "bob@example.com"))["new"]; !strings.Contains(msg, `"bob"`) {
		t.Errorf("the refusal does not say which name: %q", msg)
	}
}

// TestCommonPasswordList checks the embedded list: thousands of entries,
// lower case, none shorter than the minimum length (those are refused
// anyway), and the well-known ones in it.
func TestCommonPasswordList(t *testing.T) {
	for _, pw := range []string{"password1234", "012345678910", "qwertyuiop12"} {
		if !domain.IsCommonPassword(pw) {
			t.Errorf("%q is not in the list", pw)
		}
	}
	for _, pw := range []string{"correct horse battery", "a quite unusual passphrase", ""} {
		if domain.IsCommonPassword(pw) {
			t.Errorf("%q is in the list", pw)
		}
	}
}
