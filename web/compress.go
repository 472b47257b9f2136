package web

import (
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
)

// minCompressSize is the smallest body worth gzipping: below about a
// kilobyte the gzip framing eats most of the gain.
const minCompressSize = 1024

// compress gzips the console's pages (and any other text) for clients that
// accept it. It decides when the status is written, from the headers the
// handler set:
//   - only text types; a text/event-stream is never compressed, so each
//     event reaches the client when it is written;
//   - never a response marked Cache-Control: no-store: those carry one-time
//     secrets, and a compressed secret beside text an attacker can choose
//     leaks through the response's length (BREACH);
//   - never a body that already has a Content-Encoding (the static files
//     come compressed) or is shorter than minCompressSize;
//   - a compressed body has no Content-Length (the one set was for the
//     uncompressed bytes) and is sent chunked.
//
// The CSRF token in every page is masked afresh per response (csrf) for
// the same BREACH reason.
func compress(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		res := c.Response()
		w := &gzipResponseWriter{ResponseWriter: res.Writer,
			accepts: c.Request().Method != http.MethodHead && acceptsGzip(c.Request().Header.Get(echo.HeaderAcceptEncoding))}
		res.Writer = w
		defer func() {
			w.close()
			res.Writer = w.ResponseWriter
		}()
		return next(c)
	}
}

var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

type gzipResponseWriter struct {
	http.ResponseWriter
	accepts     bool
	wroteHeader bool
	gz          *gzip.Writer // set when this response is compressed
}

func (w *gzipResponseWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		w.decide(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

// decide starts compressing if the response qualifies (see compress).
func (w *gzipResponseWriter) decide(code int) {
	h := w.Header()
	if code < 200 || code == http.StatusNoContent || code == http.StatusNotModified ||
		h.Get(echo.HeaderContentEncoding) != "" || !compressibleType(h.Get(echo.HeaderContentType)) {
		return
	}
	addVary(h, echo.HeaderAcceptEncoding)
	if !w.accepts || strings.Contains(h.Get("Cache-Control"), "no-store") {
		return
	}
	if n, err := strconv.Atoi(h.Get(echo.HeaderContentLength)); err == nil && n < minCompressSize {
		return
	}
	h.Del(echo.HeaderContentLength)
	h.Set(echo.HeaderContentEncoding, "gzip")
	if etag := h.Get("ETag"); strings.HasPrefix(etag, `"`) {
		h.Set("ETag", "W/"+etag) // the same content, other bytes
	}
	w.gz = gzipWriters.Get().(*gzip.Writer)
	w.gz.Reset(w.ResponseWriter)
}

func (w *gzipResponseWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.gz != nil {
		return w.gz.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends what was compressed so far, so a handler that streams still can.
func (w *gzipResponseWriter) Flush() {
	if w.gz != nil {
		_ = w.gz.Flush()
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *gzipResponseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// close ends the gzip stream and returns its writer to the pool.
func (w *gzipResponseWriter) close() {
	if w.gz == nil {
		return
	}
	_ = w.gz.Close()
	w.gz.Reset(nil)
	gzipWriters.Put(w.gz)
	w.gz = nil
}

// addVary adds field to the Vary header unless it is there already.
func addVary(h http.Header, field string) {
	for _, v := range h.Values(echo.HeaderVary) {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), field) {
				return
			}
		}
	}
	h.Add(echo.HeaderVary, field)
}

// compressibleType reports whether a response of this Content-Type is text
// that gzip makes smaller, and may be buffered by gzip.
func compressibleType(contentType string) bool {
	t, _, _ := strings.Cut(contentType, ";")
	switch strings.TrimSpace(strings.ToLower(t)) {
	case "text/html", "text/plain", "text/css", "text/javascript", "application/javascript",
		"application/json", "application/problem+json", "image/svg+xml":
		return true
	}
	return false // text/event-stream among others
}

// acceptsGzip reads an Accept-Encoding header: gzip (or *) with a quality
// above zero.
func acceptsGzip(header string) bool {
	ok := false
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := 1.0
		if k, v, found := strings.Cut(strings.TrimSpace(params), "="); found && strings.TrimSpace(k) == "q" {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = f
			}
		}
		if coding == "gzip" {
			return q > 0 // gzip named: its own quality decides
		}
		ok = q > 0
	}
	return ok
}
