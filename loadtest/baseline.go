package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// baseline is a bare Echo server answering one route with fixed bytes.
type baseline struct {
	url string
	srv *http.Server
}

func startBaseline(t target, c captured) (*baseline, error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	path, _, _ := strings.Cut(t.path, "?")
	ctype := c.header.Get("Content-Type")
	e.Add(t.method, path, func(ec echo.Context) error {
		h := ec.Response().Header()
		for k, v := range c.header {
			h[k] = v
		}
		return ec.Blob(http.StatusOK, ctype, c.body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go srv.Serve(ln)
	return &baseline{url: "http://" + ln.Addr().String(), srv: srv}, nil
}

func (b *baseline) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b.srv.Shutdown(ctx)
}
