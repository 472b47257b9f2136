package web_test

import (
	"io"
	"net/http"
	"testing"
)

// A program that calls a path that does not exist gets the API's JSON 404,
// never the console's redirect to the sign-in page: any other API version
// (/v1, /v2alpha, /v3 ...), and any unknown path when the request carries
// an Authorization header or asks for JSON.
func TestAPIUnknownPathsAnswerJSON404(t *testing.T) {
	e := apiNewEnv(t)
	caller := e.caller(e.admin, e.app.inventory(), "Lost")
	auth := e.auth(caller, "basic")
	send := func(method, path string, header map[string]string) apiResponse {
		t.Helper()
		req, err := http.NewRequest(method, e.app.srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		// Redirects are not followed: a 303 to /signin must show as such.
		client := *e.app.srv.Client()
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return apiReadResponse(t, resp)
	}
	for _, tc := range []struct {
		method, path string
		header       map[string]string
	}{
		{http.MethodGet, "/v1/projects", nil},
		{http.MethodGet, "/v1", nil},
		{http.MethodGet, "/v2alpha/projects", nil},
		{http.MethodPost, "/v3/projects", nil},
		{http.MethodGet, "/v2beta1/organizations", map[string]string{"Authorization": auth}},
		{http.MethodGet, "/v2/nothing/here", map[string]string{"Authorization": auth}},
		{http.MethodGet, "/api/v2/projects", map[string]string{"Authorization": auth}},
		{http.MethodGet, "/projects/zzzzzzzzzzzzzzzzzzzz/devices", map[string]string{"Authorization": "Bearer nonsense"}},
		{http.MethodGet, "/no/such/page", map[string]string{"Accept": "application/json"}},
		{http.MethodDelete, "/no/such/page", map[string]string{"Accept": "text/html;q=0.5, application/json"}},
		// A console page's path with a method it does not take.
		{http.MethodDelete, "/projects/zzzzzzzzzzzzzzzzzzzz", map[string]string{"Authorization": auth}},
		{http.MethodPut, "/signin", map[string]string{"Accept": "application/json"}},
	} {
		r := send(tc.method, tc.path, tc.header)
		if r.status != http.StatusNotFound {
			t.Errorf("%s %s %v: status %d (Location %q), want 404", tc.method, tc.path, tc.header, r.status, r.header.Get("Location"))
			continue
		}
		if got := apiDecodeError(t, r, http.StatusNotFound); got.Error == "" {
			t.Errorf("%s %s: empty error", tc.method, tc.path)
		}
	}
	// A person's browser still gets the console: sent to sign in.
	r := send(http.MethodGet, "/no/such/page", map[string]string{"Accept": "text/html"})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/signin?next=%2Fno%2Fsuch%2Fpage" {
		t.Errorf("a browser's unknown page: status %d Location %q, want the sign-in redirect", r.status, r.header.Get("Location"))
	}
}

// apiReadResponse reads a whole response.
func apiReadResponse(t testing.TB, resp *http.Response) apiResponse {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return apiResponse{status: resp.StatusCode, header: resp.Header, body: b}
}
