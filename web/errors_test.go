package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestServerErrorsShowTheRequestID: when the server fails (here: its
// database is gone), the page, the htmx toast and the API's error body say
// the request id, the one in X-Request-Id and in the log lines of the
// request, so a report can be matched with the log; internals stay hidden.
func TestServerErrorsShowTheRequestID(t *testing.T) {
	e := apiNewEnv(t)
	app := e.app
	inv := app.inventory()
	caller := e.caller(e.admin, inv, "Failing")
	c := app.signedIn(adminEmail)
	if err := app.store.Close(); err != nil {
		t.Fatal(err)
	}

	check := func(what string, status int, header http.Header, shown string) {
		t.Helper()
		id := header.Get("X-Request-Id")
		if status != http.StatusInternalServerError || id == "" {
			t.Fatalf("%s: status %d, request id %q; want 500 with an id", what, status, id)
		}
		if !strings.Contains(shown, "Request id: "+id+".") {
			t.Errorf("%s: the answer does not say request id %s: %q", what, id, shown)
		}
		if strings.Contains(shown, "closed") || strings.Contains(shown, "sql") {
			t.Errorf("%s: the answer shows internals: %q", what, shown)
		}
		if !strings.Contains(app.logs.String(), "request_id="+id) {
			t.Errorf("%s: no log line carries request id %s", what, id)
		}
	}

	r := c.get("/projects/" + inv.ID + "/serviceaccounts")
	check("page", r.status, r.header, r.doc.Find("main").Text())

	r = c.htmxPost("/projects/"+inv.ID+"/serviceaccounts", url.Values{"displayName": {"x"}})
	check("htmx toast", r.status, r.header, r.body)

	ar := e.call(http.MethodGet, "/v2/projects/"+inv.ID+"/serviceaccounts", apiBasic(caller.KeyID, caller.Secret), nil)
	body := apiDecodeError(t, ar, http.StatusInternalServerError)
	check("API", ar.status, ar.header, body.Error)
	if !strings.HasPrefix(body.Error, "Internal error.") {
		t.Errorf("API error text %q", body.Error)
	}
}

// TestPanicsAreLoggedWithTheRequestID: a handler that panics answers 500
// with the request id, and the panic is logged once, through the request's
// logger (with the id and the stack), not through Echo's own logger.
func TestPanicsAreLoggedWithTheRequestID(t *testing.T) {
	app := newApp(t)
	app.echo.GET("/panics", func(echo.Context) error { panic("boom in a handler") })
	r := app.client().get("/panics")
	id := r.header.Get("X-Request-Id")
	if r.status != http.StatusInternalServerError || id == "" || !strings.Contains(r.doc.Find("main").Text(), "Request id: "+id+".") {
		t.Fatalf("status %d, request id %q, page %q", r.status, id, r.doc.Find("main").Text())
	}
	if strings.Contains(r.body, "boom") {
		t.Errorf("the page shows the panic: %s", r.body)
	}
	var panics []string
	for _, line := range strings.Split(app.logs.String(), "\n") {
		if strings.Contains(line, "msg=panic") {
			panics = append(panics, line)
		}
	}
	if len(panics) != 1 || !strings.Contains(panics[0], "request_id="+id) || !strings.Contains(panics[0], "boom in a handler") ||
		!strings.Contains(panics[0], "errors_test.go") {
		t.Errorf("panic log lines: %q; want one with the request id, the panic and its stack", panics)
	}
	if strings.Contains(app.logs.String(), `msg="request failed"`) {
		t.Errorf("the panic was logged twice: %s", app.logs.String())
	}
}
