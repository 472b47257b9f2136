package domain

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxDisplayNameLength bounds every display name, in characters.
const MaxDisplayNameLength = 100

// CleanDisplayName trims a display name and checks it: required, at most
// 100 characters, no control characters. field names the form field.
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
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", FieldError(field, "The name cannot contain control characters such as line breaks or tabs.")
		}
	}
	return s, nil
}

// MaxEmailLength is the longest address SMTP allows.
const MaxEmailLength = 254

// CleanEmail trims and lower-cases an email address and checks its shape.
func CleanEmail(field, s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", FieldError(field, "The email address contains a character that is not allowed.")
	}
	s = strings.ToLower(strings.TrimSpace(s))
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
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`<>()[]\,;:"`, r) {
			return "", FieldError(field, "The email address contains a character that is not allowed.")
		}
	}
	return s, nil
}

// Password length bounds, in characters.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 256
)

// CheckNewPassword checks a password being set.
func CheckNewPassword(field, pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLength:
		return FieldError(field, "The password must be at least 12 characters long.")
	case n > MaxPasswordLength:
		return FieldError(field, "The password can be at most 256 characters long.")
	case strings.TrimSpace(pw) == "":
		return FieldError(field, "The password cannot be only spaces.")
	}
	return nil
}
