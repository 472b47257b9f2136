// Package static embeds the console's stylesheet, script and vendored htmx,
// and names each file by its content for caching.
//
// htmx is htmx.org 2.0.11 from npm (dist/htmx.min.js), sha256
// d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
	"strings"
	"sync"
)

// FS holds the files served under /static/.
//
//go:embed *.css *.js *.svg
var FS embed.FS

// Asset is one embedded file, ready to serve.
type Asset struct {
	Name        string // as embedded: "app.css"
	HashedName  string // with its content hash: "app.3f2a9c1b5d7e8f01.css"
	ContentType string
	ETag        string // quoted content hash, the same as in HashedName
	Body        []byte
	// Gzip is Body compressed, with its own ETag; nil when compressing
	// does not pay (an image format that is compressed already).
	Gzip     []byte
	GzipETag string
}

// URL is the address of the embedded file name under its content-hashed
// name ("/static/app.3f2a9c1b5d7e8f01.css"), which may be cached for ever:
// a new build with other content has another name. A name that is not
// embedded keeps its plain address, which answers 404.
func URL(name string) string {
	if a, ok := assets().byName[name]; ok {
		return "/static/" + a.HashedName
	}
	return "/static/" + name
}

// Lookup finds an asset by its plain or hashed name; hashed says which.
func Lookup(name string) (a *Asset, hashed bool, ok bool) {
	t := assets()
	if a, ok := t.byHashed[name]; ok {
		return a, true, true
	}
	a, ok = t.byName[name]
	return a, false, ok
}

type table struct {
	byName, byHashed map[string]*Asset
}

// assets reads and hashes the embedded files once. They are part of the
// binary, so the table is as constant as they are.
var assets = sync.OnceValue(func() table {
	t := table{byName: map[string]*Asset{}, byHashed: map[string]*Asset{}}
	entries, err := fs.ReadDir(FS, ".")
	if err != nil {
		panic("static: reading the embedded files: " + err.Error())
	}
	for _, e := range entries {
		body, err := FS.ReadFile(e.Name())
		if err != nil {
			panic("static: reading the embedded " + e.Name() + ": " + err.Error())
		}
		a := newAsset(e.Name(), body)
		t.byName[a.Name], t.byHashed[a.HashedName] = a, a
	}
	return t
})

// hashLength is how many hex digits of the SHA-256 name a version: 64
// bits, so two builds' files never share a name by chance.
const hashLength = 16

func newAsset(name string, body []byte) *Asset {
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])[:hashLength]
	ext := path.Ext(name)
	a := &Asset{
		Name:        name,
		HashedName:  strings.TrimSuffix(name, ext) + "." + hash + ext,
		ContentType: contentTypes[ext],
		ETag:        `"` + hash + `"`,
		Body:        body,
	}
	if a.ContentType == "" {
		a.ContentType = "application/octet-stream"
	}
	// Compressed once here, at the smallest size, instead of per request.
	// Kept only when it saves a tenth: text does, images and fonts do not.
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // a valid level never fails
	zw.Write(body)
	zw.Close()
	if buf.Len() < len(body)*9/10 {
		a.Gzip, a.GzipETag = buf.Bytes(), `"`+hash+`-gzip"`
	}
	return a
}

// contentTypes are the types of the embedded files, fixed here rather than
// read from the machine's mime tables.
var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}
