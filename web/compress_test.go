package web_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestPagesAreGzipped: a console page comes gzipped to a browser that
// accepts it (and without a Content-Length that would be the uncompressed
// one), and as it was, with its Content-Length, to one that does not.
func TestPagesAreGzipped(t *testing.T) {
	app := newApp(t)
	signedIn, visitor := app.signedIn(adminEmail), app.client()
	for path, c := range map[string]*client{"/": signedIn, "/orgs/" + app.org.ID: signedIn, "/signin": visitor} {
		resp, body := rawGet(t, c.http, app.srv.URL+path, http.Header{"Accept-Encoding": {"gzip, deflate, br, zstd"}})
		h := resp.Header
		vary := strings.Join(h.Values("Vary"), ", ")
		if resp.StatusCode != http.StatusOK || h.Get("Content-Encoding") != "gzip" || !strings.Contains(vary, "Accept-Encoding") {
			t.Fatalf("GET %s accepting gzip: status %d, Content-Encoding %q, Vary %q", path, resp.StatusCode, h.Get("Content-Encoding"), vary)
		}
		if resp.ContentLength != -1 && resp.ContentLength != int64(len(body)) {
			t.Fatalf("GET %s gzipped: Content-Length %d for %d bytes", path, resp.ContentLength, len(body))
		}
		page := gunzip(t, body)
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(page)))
		if err != nil || doc.Find("h1").Length() == 0 || !strings.HasSuffix(strings.TrimSpace(string(page)), "</html>") {
			t.Fatalf("GET %s: the gunzipped page is not whole: %.200q", path, page)
		}
		if len(body) >= len(page) {
			t.Fatalf("GET %s: %d gzipped bytes for a %d-byte page", path, len(body), len(page))
		}

		resp, body = rawGet(t, c.http, app.srv.URL+path, nil)
		if resp.Header.Get("Content-Encoding") != "" || resp.ContentLength != int64(len(body)) || !strings.Contains(string(body), "</html>") {
			t.Fatalf("GET %s without gzip: Content-Encoding %q, Content-Length %d for %d bytes",
				path, resp.Header.Get("Content-Encoding"), resp.ContentLength, len(body))
		}
	}
}

// TestOneTimeSecretIsNotCompressed: the page that shows a new key's secret
// is never compressed, even to a browser that accepts gzip: the secret's
// compressed length beside text an attacker chose would leak it (BREACH).
func TestOneTimeSecretIsNotCompressed(t *testing.T) {
	app := newApp(t)
	sa := app.addServiceAccount(app.inventory(), "Exporter")
	c := app.signedIn(adminEmail)
	c.get(saPath(sa))
	resp, body := rawDo(t, c.http, http.MethodPost, app.srv.URL+saPath(sa)+"/keys", http.Header{"Accept-Encoding": {"gzip"}},
		url.Values{"_csrf": {c.csrf}}.Encode())
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	secret := doc.Find("[data-testid=new-key-secret]").Text()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Content-Encoding") != "" || secret == "" {
		t.Fatalf("create key accepting gzip: status %d, Cache-Control %q, Content-Encoding %q, secret shown: %v",
			resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Encoding"), secret != "")
	}
	if n := app.keyCount(sa.ID); n != 1 {
		t.Fatalf("%d keys, want the one made", n)
	}
}
