package domain

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxDisplayNameLength bounds every display name, in characters.
const MaxDisplayNameLength = 100

// CleanDisplayName trims a display name and checks it: required, at most
// 100 characters, no control characters, no invisible characters (bidi
// controls such as U+202E, which make "Robot\u202Egpj.exe" read as
// "Robotexe.jpg", zero-width spaces and joiners, and every other Unicode
// format character), and something visible left once blank-looking
// characters (spaces, fillers such as U+3164, variation selectors) are
// set aside. field names the form field. Every display name (people,
// service accounts, projects, organizations) goes through here.
func CleanDisplayName(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		return "", FieldError(field, "The name contains invalid characters.")
	case n == 0:
		return "", FieldError(field, "Enter a name.")
	case n > MaxDisplayNameLength:
		return "", FieldError(field, "The name can be at most 100 characters long.")
	}
	visible := false
	for _, r := range s {
		switch {
		case unicode.IsControl(r):
			return "", FieldError(field, "The name cannot contain control characters such as line breaks or tabs.")
		case unicode.Is(unicode.Bidi_Control, r):
			return "", FieldError(field, fmt.Sprintf("The name cannot contain invisible direction controls (%U): they make text read in another order than it is written.", r))
		case unicode.Is(unicode.Cf, r):
			return "", FieldError(field, fmt.Sprintf("The name cannot contain invisible characters such as zero-width spaces (%U).", r))
		}
		visible = visible || isVisible(r)
	}
	if !visible {
		return "", FieldError(field, "Enter a name with visible characters: this one looks blank.")
	}
	return s, nil
}

// isVisible reports whether r shows as something: a letter, digit, mark
// of punctuation or symbol, and not one of the characters that look blank
// (the Hangul fillers, the braille blank, and the other default-ignorable
// code points).
func isVisible(r rune) bool {
	return unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S) &&
		!unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) && r != '\u2800'
}

// MaxEmailLength is the longest address SMTP allows.
const MaxEmailLength = 254

// CleanEmail normalises an email address and checks its shape. It is
// NFKC-normalised and lower-cased (so "ＡＬＩＣＥ@Example.com", with
// full-width letters, is alice@example.com, the same account), and
// refused with invisible characters such as zero-width spaces in it.
func CleanEmail(field, s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", FieldError(field, "The email address contains a character that is not allowed.")
	}
	s = normalizeEmail(strings.TrimSpace(s))
	if s != normalizeEmail(s) {
		// The few characters whose lower case NFKC changes again.
		return "", FieldError(field, "The email address contains a character that is not allowed.")
	}
	if s == "" {
		return "", FieldError(field, "Enter an email address.")
	}
	if len(s) > MaxEmailLength {
		return "", FieldError(field, "The email address is too long or not valid.")
	}
	local, host, ok := strings.Cut(s, "@")
	if !ok || local == "" || host == "" || strings.Contains(host, "@") ||
		!strings.Contains(host, ".") || strings.HasPrefix(host, ".") || strings.HasSuffix(host, ".") {
		return "", FieldError(field, "Enter an email address like name@example.com.")
	}
	for _, r := range s {
		if unicode.Is(unicode.Cf, r) {
			return "", FieldError(field, fmt.Sprintf("The email address contains an invisible character (%U).", r))
		}
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`<>()[]\,;:"`, r) {
			return "", FieldError(field, "The email address contains a character that is not allowed.")
		}
	}
	return s, nil
}

func normalizeEmail(s string) string {
	return strings.TrimSpace(strings.ToLower(norm.NFKC.String(s)))
}

// EmailScriptWarning says, when an email address mixes writing systems in
// a way no language does (such as a Cyrillic "а" among Latin letters, in
// "pаypal.com"), that it may not be the address it looks like; "" when
// not. It is a warning, never a refusal: the address may be right. The
// combinations allowed are those of Unicode's "highly restrictive" level
// (UTS #39): one script, or Latin with Han and Japanese kana, with Han
// and Bopomofo, or with Han and Hangul.
func EmailScriptWarning(email string) string {
	found := map[string]bool{}
	for _, r := range email {
		if name := scriptOf(r); name != "" {
			found[name] = true
		}
	}
	if len(found) < 2 {
		return ""
	}
	for _, allowed := range [][]string{{"Latin", "Han", "Hiragana", "Katakana"}, {"Latin", "Han", "Bopomofo"}, {"Latin", "Han", "Hangul"}} {
		covered := 0
		for _, name := range allowed {
			if found[name] {
				covered++
			}
		}
		if covered == len(found) {
			return ""
		}
	}
	names := make([]string, 0, len(found))
	for name := range found {
		names = append(names, name)
	}
	sort.Strings(names)
	return fmt.Sprintf("This address mixes %s letters, as look-alike addresses do. Check that it is the address you mean.",
		strings.Join(names[:len(names)-1], ", ")+" and "+names[len(names)-1])
}

// scriptOf names the script of a letter; "" for what every script shares
// (digits, punctuation, combining marks).
func scriptOf(r rune) string {
	if !unicode.IsLetter(r) {
		return ""
	}
	for name, table := range unicode.Scripts {
		if name != "Common" && name != "Inherited" && unicode.Is(table, r) {
			return name
		}
	}
	return ""
}
