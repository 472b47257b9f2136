package web_test

import (
	"net/http"
	"strings"
	"testing"
)

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
