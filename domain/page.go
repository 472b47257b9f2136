package domain

import (
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
)

// Page sizes, as the API contract sets them; the console uses the same bounds.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// Cursor is the position after which the next page starts: the sort key
// and id of the last item shown. The zero Cursor means the first page.
type Cursor struct {
	Key string
	ID  string
}

// IsZero reports whether c points at the first page.
func (c Cursor) IsZero() bool { return c.Key == "" && c.ID == "" }

// Page is one page of a list and the token of the next one ("" on the last).
type Page[T any] struct {
	Items         []T
	NextPageToken string
}

// PageRequest asks for one page: Size items after the token's position.
type PageRequest struct {
	Size  int
	Token string
}

// A page token is bound to the listing it came from: the kind of list,
// its parent resource and its filter, as Listing names them. A token from
// another listing (another project's members, the same list searched for
// something else) would start at a position that means nothing there and
// return a partial page without a word, so it is refused instead.
const cursorPrefix = "c2:"

// Listing names one listing for its page tokens: the kind of list, then
// its parent and filter values. Two listings with the same name show the
// same items.
func Listing(kind string, parts ...string) string {
	return kind + "\x00" + strings.Join(parts, "\x00")
}

// listingDigest is what a token carries of its listing: short, opaque,
// and the same for the same listing.
func listingDigest(listing string) string {
	sum := sha256.Sum256([]byte(listing))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

// EncodeCursor makes an opaque page token for a position in a listing.
func EncodeCursor(listing string, c Cursor) string {
	raw := cursorPrefix + listingDigest(listing) + " " + strconv.Quote(c.Key) + " " + strconv.Quote(c.ID)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor reads a page token that EncodeCursor made for the same
// listing; "" is the first page.
func DecodeCursor(listing, token string) (Cursor, error) {
	if token == "" {
		return Cursor{}, nil
	}
	bad := FieldError("pageToken", "The page token is not valid.")
	if len(token) > 2048 {
		return Cursor{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	prefix := cursorPrefix + listingDigest(listing) + " "
	if err != nil || !strings.HasPrefix(string(raw), prefix) {
		return Cursor{}, bad
	}
	rest := string(raw[len(prefix):])
	// The key is a quoted string (which may itself hold quotes and spaces),
	// then one space, then the quoted id.
	keyQuoted, err := strconv.QuotedPrefix(rest)
	if err != nil || keyQuoted[0] != '"' || !strings.HasPrefix(rest[len(keyQuoted):], " ") {
		return Cursor{}, bad
	}
	key, err1 := strconv.Unquote(keyQuoted)
	id, err2 := strconv.Unquote(rest[len(keyQuoted)+1:])
	c := Cursor{Key: key, ID: id}
	// Only the form EncodeCursor writes is accepted: a token spelled another
	// way (raw bytes Quote would escape, escapes it would not write) could
	// mean the same cursor yet re-encode longer than the limit.
	if err1 != nil || err2 != nil || EncodeCursor(listing, c) != token {
		return Cursor{}, bad
	}
	return c, nil
}

// ParsePageSize reads a page size; "" means the default. Out of range is invalid.
func ParsePageSize(s string) (int, error) {
	if s == "" {
		return DefaultPageSize, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxPageSize {
		return 0, FieldError("pageSize", "The page size must be a whole number from 1 to 1000.")
	}
	return n, nil
}

// pageOf turns up to size+1 fetched items into a page: the extra item only
// tells that a next page exists.
func pageOf[T any](items []T, size int, listing string, cursorOf func(T) Cursor) Page[T] {
	if len(items) <= size {
		return Page[T]{Items: items}
	}
	items = items[:size]
	return Page[T]{Items: items, NextPageToken: EncodeCursor(listing, cursorOf(items[len(items)-1]))}
}

// normalizePage validates a page request of a listing and returns its size and cursor.
func normalizePage(req PageRequest, listing string) (int, Cursor, error) {
	size := req.Size
	if size == 0 {
		size = DefaultPageSize
	}
	if size < 1 || size > MaxPageSize {
		return 0, Cursor{}, FieldError("pageSize", "The page size must be a whole number from 1 to 1000.")
	}
	c, err := DecodeCursor(listing, req.Token)
	return size, c, err
}
