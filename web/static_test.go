package web_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"

	"studio/static"

	"github.com/PuerkitoBio/goquery"
)

// rawGet sends one GET as a browser would, with the given extra headers
// (Accept-Encoding identity unless set), and returns the response with its
// body exactly as sent.
func rawGet(t *testing.T, c *http.Client, u string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	return rawDo(t, c, http.MethodGet, u, header, "")
}

// rawDo sends one request with a form body (if any) and returns the
// response with its body as sent: the transport decompresses only what it
// asked for itself, and an Accept-Encoding set here is ours.
func rawDo(t *testing.T, c *http.Client, method, u string, header http.Header, form string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "identity")
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("broken gzip: %v", err)
	}
	return out
}

// embeddedFile is one file of the static package with the name and tag a
// browser should see for it, computed here from its bytes.
type embeddedFile struct {
	name, hashedURL, etag, contentType string
	body                               []byte
}

func embeddedFiles(t *testing.T) []embeddedFile {
	t.Helper()
	types := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
	entries, err := fs.ReadDir(static.FS, ".")
	if err != nil || len(entries) == 0 {
		t.Fatalf("embedded files: %v %v", entries, err)
	}
	var out []embeddedFile
	for _, e := range entries {
		body, err := static.FS.ReadFile(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])[:16]
		ext := path.Ext(e.Name())
		out = append(out, embeddedFile{name: e.Name(), body: body, etag: `"` + hash + `"`, contentType: types[ext],
			hashedURL: "/static/" + strings.TrimSuffix(e.Name(), ext) + "." + hash + ext})
	}
	return out
}

// TestPagesLinkContentHashedAssets: a page links its stylesheet, scripts and
// icon under content-hashed names, and each answers with a year of
// immutable caching, the content's hash as ETag and the file's bytes.
func TestPagesLinkContentHashedAssets(t *testing.T) {
	app := newApp(t)
	for _, path := range []string{"/signin", "/"} {
		c := app.client()
		if path == "/" {
			c = app.signedIn(adminEmail)
		}
		r := c.get(path)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, r.status)
		}
		var linked []string
		r.doc.Find(`head link[href], head script[src]`).Each(func(_ int, s *goquery.Selection) {
			linked = append(linked, s.AttrOr("href", s.AttrOr("src", "")))
		})
		var want []string
		for _, f := range embeddedFiles(t) {
			want = append(want, f.hashedURL)
		}
		if !sameSet(linked, want) {
			t.Fatalf("GET %s links %q, want the hashed URLs %q", path, linked, want)
		}
	}
	for _, f := range embeddedFiles(t) {
		resp, body := rawGet(t, http.DefaultClient, app.srv.URL+f.hashedURL, nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, f.body) {
			t.Fatalf("GET %s: status %d, %d bytes, want the %d bytes of %s", f.hashedURL, resp.StatusCode, len(body), len(f.body), f.name)
		}
		h := resp.Header
		if h.Get("Cache-Control") != "public, max-age=31536000, immutable" || h.Get("ETag") != f.etag ||
			h.Get("Content-Type") != f.contentType || h.Get("Content-Encoding") != "" || resp.ContentLength != int64(len(f.body)) {
			t.Fatalf("GET %s: Cache-Control %q ETag %q Content-Type %q Content-Encoding %q Content-Length %d; want immutable, %s, %s, none, %d",
				f.hashedURL, h.Get("Cache-Control"), h.Get("ETag"), h.Get("Content-Type"), h.Get("Content-Encoding"), resp.ContentLength,
				f.etag, f.contentType, len(f.body))
		}
		if h.Get("Content-Security-Policy") == "" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("GET %s lost the security headers: %v", f.hashedURL, h)
		}
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		if seen[s] == 0 {
			return false
		}
		seen[s]--
	}
	return true
}

// TestStaticPlainURLsRevalidate: the plain names keep working for old
// links, but must be revalidated; an unchanged file then costs a 304.
func TestStaticPlainURLsRevalidate(t *testing.T) {
	app := newApp(t)
	for _, f := range embeddedFiles(t) {
		u := app.srv.URL + "/static/" + f.name
		resp, body := rawGet(t, http.DefaultClient, u, nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, f.body) || resp.Header.Get("Cache-Control") != "no-cache" ||
			resp.Header.Get("ETag") != f.etag {
			t.Fatalf("GET /static/%s: status %d, Cache-Control %q, ETag %q; want 200, no-cache, %s", f.name, resp.StatusCode,
				resp.Header.Get("Cache-Control"), resp.Header.Get("ETag"), f.etag)
		}
		for _, tag := range []string{f.etag, "W/" + f.etag, `"other", ` + f.etag} {
			resp, body = rawGet(t, http.DefaultClient, u, http.Header{"If-None-Match": {tag}})
			if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
				t.Fatalf("GET /static/%s with If-None-Match %s: status %d, %d bytes; want 304 and no body", f.name, tag, resp.StatusCode, len(body))
			}
		}
		resp, body = rawGet(t, http.DefaultClient, u, http.Header{"If-None-Match": {`"0000000000000000"`}})
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, f.body) {
			t.Fatalf("GET /static/%s with a stale ETag: status %d, want 200 with the file", f.name, resp.StatusCode)
		}
	}
}

// TestStaticGzip: text files come gzipped to a client that accepts it,
// with their own ETag (other bytes) that revalidates too.
func TestStaticGzip(t *testing.T) {
	app := newApp(t)
	for _, f := range embeddedFiles(t) {
		if f.name == "favicon.svg" {
			continue // 321 bytes: not worth it
		}
		resp, body := rawGet(t, http.DefaultClient, app.srv.URL+f.hashedURL, http.Header{"Accept-Encoding": {"gzip, deflate, br"}})
		h := resp.Header
		if resp.StatusCode != http.StatusOK || h.Get("Content-Encoding") != "gzip" || !strings.Contains(h.Get("Vary"), "Accept-Encoding") ||
			resp.ContentLength != int64(len(body)) || len(body) >= len(f.body) {
			t.Fatalf("GET %s accepting gzip: status %d, Content-Encoding %q, Vary %q, Content-Length %d for %d bytes (file %d)",
				f.hashedURL, resp.StatusCode, h.Get("Content-Encoding"), h.Get("Vary"), resp.ContentLength, len(body), len(f.body))
		}
		if got := gunzip(t, body); !bytes.Equal(got, f.body) {
			t.Fatalf("GET %s: gunzipped %d bytes differ from the file", f.hashedURL, len(got))
		}
		wantTag := strings.TrimSuffix(f.etag, `"`) + `-gzip"`
		if h.Get("ETag") != wantTag || h.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Fatalf("GET %s gzipped: ETag %q, Cache-Control %q; want %s, immutable", f.hashedURL, h.Get("ETag"), h.Get("Cache-Control"), wantTag)
		}
		resp, body = rawGet(t, http.DefaultClient, app.srv.URL+f.hashedURL, http.Header{"Accept-Encoding": {"gzip"}, "If-None-Match": {wantTag}})
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Fatalf("GET %s with the gzip ETag: status %d, want 304", f.hashedURL, resp.StatusCode)
		}
		// gzip;q=0 refuses gzip.
		resp, body = rawGet(t, http.DefaultClient, app.srv.URL+f.hashedURL, http.Header{"Accept-Encoding": {"br, gzip;q=0"}})
		if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, f.body) {
			t.Fatalf("GET %s with gzip;q=0: Content-Encoding %q", f.hashedURL, resp.Header.Get("Content-Encoding"))
		}
	}
}

// TestStaticUnknownIs404: only the embedded files are served; a directory,
// a wrong hash or a path out of the directory is 404.
func TestStaticUnknownIs404(t *testing.T) {
	app := newApp(t)
	for _, p := range []string{"/static/", "/static/nope.css", "/static/app.0000000000000000.css", "/static/app.css/",
		"/static/static.go", "/static/" + url.PathEscape("../go.mod"), "/static/./app.css/.."} {
		resp, body := rawGet(t, noRedirects, app.srv.URL+p, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404 (%.80q)", p, resp.StatusCode, body)
		}
	}
}

// TestStaticServesFilesNotDirectories asks /static/ for its directory in
// every spelling: each is 404 and lists nothing, while the files are served.
func TestStaticServesFilesNotDirectories(t *testing.T) {
	app := newApp(t)
	c := app.client()
	for _, path := range []string{"/static/", "/static/.", "/static/./", "/static//", "/static/%2e/", "/static/app.css/",
		"/static/index.html", "/static/../static/", "/static/nothing.css", "/static/.hidden"} {
		r := c.get(path)
		if r.status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, r.status)
		}
		if strings.Contains(r.body, `href="htmx-2.0.11.min.js"`) || strings.Contains(r.body, `href="app.css"`) {
			t.Errorf("GET %s lists the directory", path)
		}
	}
	for _, path := range []string{"/static/app.css", "/static/app.js", "/static/favicon.svg", "/static/htmx-2.0.11.min.js"} {
		if r := c.get(path); r.status != http.StatusOK || r.body == "" {
			t.Errorf("GET %s: status %d", path, r.status)
		}
	}
}
