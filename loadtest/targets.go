package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// target is one route under test.
type target struct {
	name, title string
	method      string
	path        string // path and query
	header      http.Header
	body        func() string // a fresh body per request, or nil
	contentType string
	console     bool   // a console page: a 404 means the page is not there yet
	skip        string // why the route cannot run
}

func routeNames() []string {
	return []string{"sa-list", "sa-list-deep", "sa-page", "members", "members-deep",
		"api-projects", "api-sa-basic", "api-sa-bearer", "api-sa-deep", "token"}
}

func (s *setup) targets() []target {
	p := s.projectID
	console := http.Header{"Cookie": {s.cookie}}
	bearer := http.Header{"Authorization": {s.bearer}}
	basic := http.Header{"Authorization": {s.basic}}
	deepConsole := func(name, title, first, token string) target {
		t := target{name: name, title: title, method: http.MethodGet, header: console, console: true}
		if token == "" {
			t.skip = "no deep page in this list (see the notes)"
			return t
		}
		u, err := s.nextPageLink(first)
		if err != nil {
			t.skip = err.Error()
			return t
		}
		q := u.Query()
		q.Set("page", token)
		u.RawQuery = q.Encode()
		t.path = u.String()
		return t
	}
	accountPage := target{name: "sa-page", title: "console: an account's page", method: http.MethodGet,
		path: "/projects/" + p + "/serviceaccounts/" + s.accountID, header: console, console: true}
	if s.accountID == "" {
		accountPage.skip = "no account found in the project"
	}
	apiDeep := target{name: "api-sa-deep", title: "API: account list, deep page (Bearer)", method: http.MethodGet,
		path: fmt.Sprintf("/v2/projects/%s/serviceaccounts?pageSize=%d&pageToken=%s", p, apiPageSize, s.saDeepToken), header: bearer}
	if s.saDeepToken == "" {
		apiDeep.skip = "no deep page in this list (see the notes)"
	}
	return []target{
		{name: "sa-list", title: "console: account list", method: http.MethodGet,
			path: "/projects/" + p + "/serviceaccounts", header: console, console: true},
		deepConsole("sa-list-deep", "console: account list, deep page", "/projects/"+p+"/serviceaccounts", s.saDeepToken),
		accountPage,
		{name: "members", title: "console: members", method: http.MethodGet,
			path: "/projects/" + p + "/members", header: console, console: true},
		deepConsole("members-deep", "console: members, deep page", "/projects/"+p+"/members", s.memDeepToken),
		{name: "api-projects", title: "API: GET /v2/projects (Bearer)", method: http.MethodGet,
			path: "/v2/projects", header: bearer},
		{name: "api-sa-basic", title: "API: account list (Basic)", method: http.MethodGet,
			path: fmt.Sprintf("/v2/projects/%s/serviceaccounts?pageSize=%d", p, apiPageSize), header: basic},
		{name: "api-sa-bearer", title: "API: account list (Bearer)", method: http.MethodGet,
			path: fmt.Sprintf("/v2/projects/%s/serviceaccounts?pageSize=%d", p, apiPageSize), header: bearer},
		apiDeep,
		{name: "token", title: "POST /oauth2/token", method: http.MethodPost, path: "/oauth2/token",
			header: http.Header{}, body: s.tokenForm, contentType: "application/x-www-form-urlencoded"},
	}
}

var nextPageHref = regexp.MustCompile(`<a\s[^>]*href="([^"]*)"[^>]*data-testid="next-page"|<a\s[^>]*data-testid="next-page"[^>]*href="([^"]*)"`)

// nextPageLink reads the next-page link of a console list's first page, so
// the deep page's URL has the form the console itself makes.
func (s *setup) nextPageLink(path string) (*url.URL, error) {
	req, _ := http.NewRequestWithContext(s.ctx, http.MethodGet, s.base+path, nil)
	req.Header.Set("Cookie", s.cookie)
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("GET %s answers 404: the page is not there (yet)", path)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	m := nextPageHref.FindSubmatch(raw)
	if m == nil {
		return nil, fmt.Errorf("GET %s: no data-testid=\"next-page\" link on the first page", path)
	}
	href := string(m[1])
	if href == "" {
		href = string(m[2])
	}
	return url.Parse(html.UnescapeString(href))
}

// captured is one real response, replayed by the baseline.
type captured struct {
	header http.Header
	body   []byte
}

// capture makes the request once against the real server and keeps the answer.
func (s *setup) capture(t target) (captured, error) {
	req, err := t.request(s.ctx, s.base)
	if err != nil {
		return captured{}, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return captured{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return captured{}, err
	}
	if resp.StatusCode == http.StatusNotFound && t.console {
		return captured{}, errors.New("the page answers 404: not there (yet)")
	}
	if resp.StatusCode != http.StatusOK {
		return captured{}, fmt.Errorf("status %d: %.300s", resp.StatusCode, body)
	}
	h := resp.Header.Clone()
	for _, k := range []string{"Date", "Content-Length", "Set-Cookie", "X-Request-Id", "Connection", "Keep-Alive", "Transfer-Encoding"} {
		h.Del(k)
	}
	return captured{header: h, body: body}, nil
}

func (t target) request(ctx context.Context, base string) (*http.Request, error) {
	var body io.Reader
	if t.body != nil {
		body = strings.NewReader(t.body())
	}
	req, err := http.NewRequestWithContext(ctx, t.method, base+t.path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range t.header {
		req.Header[k] = v
	}
	if t.contentType != "" {
		req.Header.Set("Content-Type", t.contentType)
	}
	return req, nil
}

// hold prints each selected route as a wrk command and keeps the server
// up for --hold (or until Ctrl-C), for measuring or profiling by hand.
func (s *setup) hold(srv *server) error {
	fmt.Printf("server pid %d at %s, on CPUs %s (log %s)\n", srv.cmd.Process.Pid, s.base, allowedCPUs(srv.cmd.Process.Pid), srv.logPath)
	for _, t := range s.targets() {
		if s.o.routes != nil && !s.o.routes[t.name] || t.skip != "" {
			continue
		}
		var args []string
		for k, vs := range t.header {
			for _, v := range vs {
				args = append(args, fmt.Sprintf("-H '%s: %s'", k, v))
			}
		}
		if t.body != nil {
			args = append(args, "(POST with a fresh body per request: use this program)")
		}
		fmt.Printf("%-14s taskset -c 1 wrk -t1 -c64 -d4s --latency %s '%s%s'\n", t.name, strings.Join(args, " "), s.base, t.path)
	}
	logf("holding the server for %s (Ctrl-C ends it sooner)", s.o.hold)
	select {
	case <-s.ctx.Done():
	case <-time.After(s.o.hold):
	}
	return nil
}
