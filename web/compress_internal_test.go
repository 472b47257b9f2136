package web

import (
	"bufio"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// TestCompressSkipsEventStreams: a text/event-stream is sent as written,
// each event when flushed, never held in a gzip buffer.
func TestCompressSkipsEventStreams(t *testing.T) {
	e := echo.New()
	e.Use(compress)
	next := make(chan struct{})
	e.GET("/events", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderContentType, "text/event-stream")
		c.Response().WriteHeader(http.StatusOK)
		for i := 0; i < 2; i++ {
			if _, err := io.WriteString(c.Response(), "data: "+strings.Repeat("x", 2000)+"\n\n"); err != nil {
				return err
			}
			c.Response().Flush()
			<-next
		}
		return nil
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	defer close(next) // lets the handler end, also when the test fails
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/events", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("event stream sent with Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	// The first event arrives while the handler still waits to write the second.
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(resp.Body).ReadString('\n')
		got <- line
	}()
	select {
	case line := <-got:
		if !strings.HasPrefix(line, "data: xxx") {
			t.Fatalf("first event = %.40q", line)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the first event did not arrive before the handler finished")
	}
}

// TestCompressRules: which responses gzip and which go as they are.
func TestCompressRules(t *testing.T) {
	big := strings.Repeat("<p>hello</p>", 500)
	for _, tc := range []struct {
		name, contentType, cacheControl, acceptEncoding, method string
		status                                                  int
		body                                                    string
		setLength                                               bool
		wantGzip                                                bool
	}{
		{"page", "text/html; charset=UTF-8", "", "gzip", "GET", 200, big, true, true},
		{"page without a length", "text/html; charset=UTF-8", "", "gzip", "GET", 200, big, false, true},
		{"error page", "text/html; charset=UTF-8", "", "gzip", "GET", 404, big, true, true},
		{"json", "application/json", "", "gzip", "GET", 200, big, true, true},
		{"client without gzip", "text/html; charset=UTF-8", "", "", "GET", 200, big, true, false},
		{"gzip refused", "text/html; charset=UTF-8", "", "gzip;q=0, br", "GET", 200, big, true, false},
		{"any coding", "text/html; charset=UTF-8", "", "*", "GET", 200, big, true, true},
		{"one-time secret", "text/html; charset=UTF-8", "no-store", "gzip", "GET", 200, big, true, false},
		{"small", "text/html; charset=UTF-8", "", "gzip", "GET", 200, "<p>hi</p>", true, false},
		{"image", "image/png", "", "gzip", "GET", 200, big, true, false},
		{"HEAD", "text/html; charset=UTF-8", "", "gzip", "HEAD", 200, big, true, false},
		{"no content", "text/html; charset=UTF-8", "", "gzip", "GET", 204, "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := echo.New()
			e.Use(compress)
			e.Match([]string{http.MethodGet, http.MethodHead}, "/", func(c echo.Context) error {
				h := c.Response().Header()
				h.Set(echo.HeaderContentType, tc.contentType)
				if tc.cacheControl != "" {
					h.Set("Cache-Control", tc.cacheControl)
				}
				if tc.setLength {
					h.Set(echo.HeaderContentLength, strconv.Itoa(len(tc.body)))
				}
				c.Response().WriteHeader(tc.status)
				if tc.method == http.MethodHead {
					return nil
				}
				_, err := io.WriteString(c.Response(), tc.body)
				return err
			})
			req := httptest.NewRequest(tc.method, "/", nil)
			if tc.acceptEncoding != "" {
				req.Header.Set("Accept-Encoding", tc.acceptEncoding)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			gzipped := rec.Header().Get("Content-Encoding") == "gzip"
			if gzipped != tc.wantGzip {
				t.Fatalf("Content-Encoding %q, want gzip: %v", rec.Header().Get("Content-Encoding"), tc.wantGzip)
			}
			body := rec.Body.Bytes()
			if gzipped {
				if rec.Header().Get("Content-Length") != "" {
					t.Fatalf("gzipped body with Content-Length %s (the uncompressed one)", rec.Header().Get("Content-Length"))
				}
				zr, err := gzip.NewReader(rec.Body)
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			} else if tc.setLength && rec.Header().Get("Content-Length") != strconv.Itoa(len(tc.body)) {
				t.Fatalf("Content-Length %q, want %d", rec.Header().Get("Content-Length"), len(tc.body))
			}
			if tc.method != http.MethodHead && string(body) != tc.body {
				t.Fatalf("body %.60q..., want %.60q...", body, tc.body)
			}
			if tc.contentType != "image/png" && tc.status != 204 && !strings.Contains(strings.Join(rec.Header().Values("Vary"), ","), "Accept-Encoding") {
				t.Fatalf("Vary %q lacks Accept-Encoding: a cache would serve one encoding to every client", rec.Header().Values("Vary"))
			}
		})
	}
}
