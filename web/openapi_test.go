package web_test

// Every JSON response the web tests receive is validated against the API's
// own OpenAPI document (handlers/api/openapi/), so the document cannot
// drift from the code: a field added to a response without the document
// fails the test that received it. The validator is
// github.com/pb33f/libopenapi-validator (OpenAPI 3.1 and JSON Schema 2020-12).

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"studio/domain"
	"studio/handlers/api"

	"github.com/PuerkitoBio/goquery"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// openAPIChecker validates responses against the document.
type openAPIChecker struct {
	model     *v3.Document
	validator validator.Validator
	routes    []openAPIRoute
	mu        sync.Mutex // the validator's caches are filled on first use
}

// openAPIRoute is one path template of the document, ready to match.
type openAPIRoute struct {
	template string
	match    *regexp.Regexp
	// rank orders the templates that match one path: literal segments
	// beat segments with a parameter and a literal suffix ({key}:rotate),
	// which beat bare parameters, from the left.
	rank string
	item *v3.PathItem
}

var (
	checkerOnce sync.Once
	checker     *openAPIChecker
	checkerErr  error
)

// sharedChecker builds the checker once for the package: the document is
// embedded in the binary and does not change.
func sharedChecker() (*openAPIChecker, error) {
	checkerOnce.Do(func() { checker, checkerErr = newOpenAPIChecker() })
	return checker, checkerErr
}

func newOpenAPIChecker() (*openAPIChecker, error) {
	raw, err := api.OpenAPIDocument()
	if err != nil {
		return nil, err
	}
	doc, err := libopenapi.NewDocument(raw)
	if err != nil {
		return nil, err
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return nil, fmt.Errorf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		var msgs []string
		for _, e := range verrs {
			msgs = append(msgs, e.Message+": "+e.Reason)
		}
		return nil, fmt.Errorf("the document is not valid OpenAPI 3.1: %s", strings.Join(msgs, "; "))
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return nil, err
	}
	c := &openAPIChecker{model: &model.Model, validator: v}
	for template, item := range model.Model.Paths.PathItems.FromOldest() {
		c.routes = append(c.routes, compileRoute(template, item))
	}
	return c, nil
}

var templateParam = regexp.MustCompile(`\{[^/{}]+\}`)

// compileRoute turns a path template into a pattern. The validator's own
// router takes "{key}:rotate" for the plain "{key}" (Google-style custom
// methods), so routes are matched here and the operation handed to it.
func compileRoute(template string, item *v3.PathItem) openAPIRoute {
	var pattern, rank strings.Builder
	pattern.WriteString("^")
	for _, seg := range strings.Split(strings.TrimPrefix(template, "/"), "/") {
		pattern.WriteString("/")
		params := templateParam.FindAllStringIndex(seg, -1)
		last := 0
		for _, p := range params {
			pattern.WriteString(regexp.QuoteMeta(seg[last:p[0]]) + "[^/]+?")
			last = p[1]
		}
		pattern.WriteString(regexp.QuoteMeta(seg[last:]))
		switch {
		case len(params) == 0:
			rank.WriteByte('0')
		case seg != templateParam.FindString(seg):
			rank.WriteByte('1')
		default:
			rank.WriteByte('2')
		}
	}
	pattern.WriteString("$")
	return openAPIRoute{template: template, match: regexp.MustCompile(pattern.String()), rank: rank.String(), item: item}
}

// route finds the most specific template matching a request path.
func (c *openAPIChecker) route(path string) (openAPIRoute, bool) {
	var found []openAPIRoute
	for _, r := range c.routes {
		if r.match.MatchString(path) {
			found = append(found, r)
		}
	}
	if len(found) == 0 {
		return openAPIRoute{}, false
	}
	sort.Slice(found, func(i, j int) bool { return found[i].rank < found[j].rank })
	return found[0], true
}

// isJSON reports whether a Content-Type is JSON.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// check validates one exchange; it returns what is wrong, nothing when it
// is right or not the API's (an HTML page, a static file).
func (c *openAPIChecker) check(req *http.Request, status int, header http.Header, body []byte) []string {
	path := req.URL.Path
	if consoleScriptJSON(path) {
		return nil
	}
	documented := false
	r, found := c.route(path)
	var op *v3.Operation
	if found {
		op = r.item.GetOperations().GetOrZero(strings.ToLower(req.Method))
		documented = op != nil
	}
	if !isJSON(header.Get("Content-Type")) {
		if documented && len(body) > 0 && req.Method != http.MethodHead && !documentsMediaType(op, status, header.Get("Content-Type")) {
			return []string{fmt.Sprintf("%s %s: %d with Content-Type %q, not JSON", req.Method, path, status, header.Get("Content-Type"))}
		}
		return nil
	}
	if documented && req.Context().Value(jsonLinesKey{}) == nil && op.Extensions != nil && op.Extensions.GetOrZero("x-json-lines") != nil {
		// A stream of JSON lines: each line is one response body.
		var out []string
		for _, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
			out = append(out, c.check(withoutJSONLines(req), status, header, line)...)
		}
		return out
	}
	if header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return []string{fmt.Sprintf("%s %s: gzip body: %v", req.Method, path, err)}
		}
		if body, err = io.ReadAll(zr); err != nil {
			return []string{fmt.Sprintf("%s %s: gzip body: %v", req.Method, path, err)}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !documented {
		// No such operation: only the error body may answer, for a 404 or
		// 405, or a 401 (credentials are checked before the path).
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed && status != http.StatusUnauthorized {
			return []string{fmt.Sprintf("%s %s answered %d with JSON, but the document has no such operation", req.Method, path, status)}
		}
		schema := c.model.Components.Schemas.GetOrZero("Error").Schema()
		if ok, errs := schema_validation.NewSchemaValidator().ValidateSchemaBytes(schema, body); !ok {
			return describeErrors(req, status, body, errs)
		}
		return nil
	}
	resp := &http.Response{StatusCode: status, Header: header.Clone(), Body: io.NopCloser(bytes.NewReader(body)), Request: req}
	resp.Header.Del("Content-Encoding")
	ok, errs := c.validator.GetResponseBodyValidator().ValidateResponseBodyWithPathItem(req, resp, r.item, r.template)
	if !ok {
		return describeErrors(req, status, body, errs)
	}
	return nil
}

// documentsMediaType reports whether the operation's response of this
// status lists the media type (a stream's text/event-stream).
func documentsMediaType(op *v3.Operation, status int, contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || op.Responses == nil {
		return false
	}
	resp := op.Responses.Codes.GetOrZero(fmt.Sprint(status))
	return resp != nil && resp.Content != nil && resp.Content.GetOrZero(mt) != nil
}

// jsonLinesKey marks a request whose lines are being checked one by one.
type jsonLinesKey struct{}

// withoutJSONLines marks req so that the check of one line does not split it again.
func withoutJSONLines(req *http.Request) *http.Request {
	return req.WithContext(context.WithValue(req.Context(), jsonLinesKey{}, true))
}

func describeErrors[E interface{ Error() string }](req *http.Request, status int, body []byte, errs []E) []string {
	var out []string
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%s %s → %d does not match the OpenAPI document: %s\n    body: %.600s", req.Method, req.URL.Path, status, e.Error(), body))
	}
	return out
}

// responseRecorder copies what a handler writes while it goes to the client.
type responseRecorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *responseRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *responseRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func (r *responseRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *responseRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// responseChecks validates the responses of one test's server and reports
// what is wrong when the test ends (after the server has closed, so every
// response is in).
type responseChecks struct {
	checker  *openAPIChecker
	mu       sync.Mutex
	problems []string
	checked  int
}

// checkResponses wraps a test server's handler: every JSON response is
// validated against the OpenAPI document, and a mismatch fails the test.
func checkResponses(t testing.TB, next http.Handler) (http.Handler, *responseChecks) {
	t.Helper()
	c, err := sharedChecker()
	if err != nil {
		t.Fatalf("OpenAPI document: %v", err)
	}
	rc := &responseChecks{checker: c}
	t.Cleanup(func() {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		for _, p := range rc.problems {
			t.Errorf("%s", p)
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec := &responseRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, req)
		problems := c.check(req, rec.status, w.Header(), rec.body.Bytes())
		rc.mu.Lock()
		rc.checked++
		rc.problems = append(rc.problems, problems...)
		rc.mu.Unlock()
	}), rc
}

// TestOpenAPIDocumentIsValid: the merged document is valid OpenAPI 3.1,
// each route of the API is in it, and each of its paths is a route.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	c, err := sharedChecker()
	if err != nil {
		t.Fatal(err)
	}
	app := newApp(t)
	documented := map[string]bool{}
	for template, item := range c.model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			documented[strings.ToUpper(method)+" "+template] = true
		}
	}
	// Echo writes a route as /v2/projects/:project/keys/:key; the document
	// as /v2/projects/{project}/keys/{key}. Custom methods (":rotate") are
	// one Echo route dispatching on the suffix: each has its own path in
	// the document, so they are listed here.
	actions := map[string][]string{
		"POST /v2/projects/:project/serviceaccounts/:sa/keys/:key": {"rotate", "disable", "enable", "reportCompromised"},
		"POST /v2/projects/:project/serviceaccounts/:sa":           {"disable", "enable"},
		"GET /v2/projects/:project/members/:member":                {"", "getInviteUrl"},
		"GET /v2/organizations/:org/members/:member":               {"", "getInviteUrl"},
		"POST /emulator/v2/projects/:project/devices/:device":      {"publish"},
	}
	normal := func(route string) string {
		route = strings.ReplaceAll(route, "\\:", ":")
		segs := strings.Split(route, "/")
		for i, s := range segs {
			if strings.HasPrefix(s, ":") || s == "-" {
				segs[i] = "{}"
			}
		}
		return strings.Join(segs, "/")
	}
	// The wildcard project "-" is a value of the :project parameter to Echo.
	docNormal := map[string][]string{}
	for k := range documented {
		n := strings.ReplaceAll(templateParam.ReplaceAllString(k, "{}"), "/-/", "/{}/")
		docNormal[n] = append(docNormal[n], k)
	}
	seen := map[string]bool{}
	for _, r := range app.echo.Routes() {
		if r.Method == "echo_route_not_found" || !(strings.HasPrefix(r.Path, "/v2") || strings.HasPrefix(r.Path, "/emulator/v2") ||
			r.Path == "/oauth2/token" || r.Path == "/healthz") || r.Path == "/v2/*" || r.Path == "/emulator/v2/*" {
			continue
		}
		key := r.Method + " " + r.Path
		suffixes, ok := actions[key]
		if !ok {
			suffixes = []string{""}
		}
		for _, suffix := range suffixes {
			want := normal(key)
			if suffix != "" {
				want += ":" + suffix
			}
			names, ok := docNormal[want]
			if !ok {
				t.Errorf("route %s%s is not in the OpenAPI document", key, map[bool]string{true: ":" + suffix}[suffix != ""])
				continue
			}
			for _, name := range names {
				seen[name] = true
			}
		}
	}
	for k := range documented {
		if !seen[k] {
			t.Errorf("the OpenAPI document has %s, which the server does not serve", k)
		}
	}
}

// The validation of responses catches a field that the document does not
// have, a missing one, a wrong type, a status it does not list, and JSON
// from a path it does not know.
func TestOpenAPIValidationCatchesDrift(t *testing.T) {
	c, err := sharedChecker()
	if err != nil {
		t.Fatal(err)
	}
	e := apiNewEnv(t)
	inv := e.app.inventory()
	caller := e.caller(e.admin, inv, "Checker")
	e.grant(caller.SA.Ref(), e.app.org.ID, inv.ID, domain.RoleProjectUser)
	r := e.call(http.MethodGet, "/v2/projects/"+inv.ID, e.auth(caller, "basic"), nil)
	good := apiOK(t, r)
	req := httptest.NewRequest(http.MethodGet, "/v2/projects/"+inv.ID, nil)
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	if problems := c.check(req, http.StatusOK, jsonHeader, good); len(problems) != 0 {
		t.Fatalf("a real project fails: %v", problems)
	}
	for name, tc := range map[string]struct {
		path   string
		status int
		body   string
	}{
		"a field added":                           {"/v2/projects/" + inv.ID, 200, strings.Replace(string(good), `"inventory":`, `"createTime":"2024-01-01T00:00:00.000000Z","inventory":`, 1)},
		"a field missing":                         {"/v2/projects/" + inv.ID, 200, strings.Replace(string(good), `"sensorCount":0,`, ``, 1)},
		"a wrong type":                            {"/v2/projects/" + inv.ID, 200, strings.Replace(string(good), `"sensorCount":0`, `"sensorCount":"0"`, 1)},
		"a coordinate as 0":                       {"/v2/projects/" + inv.ID, 200, strings.Replace(string(good), `"latitude":null`, `"latitude":"0"`, 1)},
		"a label that is a number":                {"/v2/projects/" + inv.ID, 200, strings.Replace(string(good), `"labels":{}`, `"labels":{"a":1}`, 1)},
		"a status not listed":                     {"/v2/projects/" + inv.ID, 418, `{"error":"teapot","code":418,"help":"x"}`},
		"an error body of another shape":          {"/v2/projects/" + inv.ID, 404, `{"message":"not found"}`},
		"JSON from an unknown path":               {"/v2/unknown", 200, `{}`},
		"a key's list with a secret":              {"/v2/projects/" + inv.ID + "/serviceaccounts/c18rs36olv9021epsv2g/keys", 200, `{"keys":[{"name":"projects/` + inv.ID + `/serviceaccounts/c18rs36olv9021epsv2g/keys/c18rs36olv9021epsv2g","id":"c18rs36olv9021epsv2g","createTime":"2024-01-01T00:00:00.000000Z","secret":"0123"}],"nextPageToken":""}`},
		"a rotate answer without its rotated key": {"/v2/projects/" + inv.ID + "/serviceaccounts/c18rs36olv9021epsv2g/keys/c18rs36olv9021epsv2g:rotate", 200, `{"key":{"name":"projects/` + inv.ID + `/serviceaccounts/c18rs36olv9021epsv2g/keys/c18rs36olv9021epsv2g","id":"c18rs36olv9021epsv2g","createTime":"2024-01-01T00:00:00.000000Z"},"secret":"0123456789abcdef0123456789abcdef"}`},
	} {
		method := http.MethodGet
		if strings.HasSuffix(tc.path, ":rotate") {
			method = http.MethodPost
		}
		req := httptest.NewRequest(method, tc.path, nil)
		if problems := c.check(req, tc.status, jsonHeader, []byte(tc.body)); len(problems) == 0 {
			t.Errorf("%s: accepted %s", name, tc.body)
		}
	}
	// The harness itself reports through the test: a recorder standing in
	// for a test gets the mismatch of a server answering with an extra field.
	rec := &recordingTB{TB: t}
	handler, _ := checkResponses(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(strings.Replace(string(good), `"inventory":`, `"extra":1,"inventory":`, 1)))
	}))
	srv := httptest.NewServer(handler)
	resp, err := srv.Client().Get(srv.URL + "/v2/projects/" + inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	srv.Close()
	rec.runCleanups()
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "extra") {
		t.Errorf("the harness reported %q, want the extra field", rec.errors)
	}
}

// recordingTB stands in for a test to see what the harness reports.
type recordingTB struct {
	testing.TB
	errors   []string
	cleanups []func()
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) runCleanups() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

// GET /v2/openapi.json serves the document without credentials; /docs/api
// shows it as a page, every operation and schema of it.
func TestOpenAPIServedAndShown(t *testing.T) {
	app := newApp(t)
	resp, err := app.srv.Client().Get(app.srv.URL + "/v2/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	r := apiReadResponse(t, resp)
	resp.Body.Close()
	if r.status != http.StatusOK || !isJSON(r.header.Get("Content-Type")) {
		t.Fatalf("GET /v2/openapi.json: %d %s", r.status, r.header.Get("Content-Type"))
	}
	doc, err := libopenapi.NewDocument(r.body)
	if err != nil {
		t.Fatal(err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Errorf("OpenAPI version %q, want 3.1.0", v)
	}
	if len(model.Model.Servers) != 1 || model.Model.Servers[0].URL != "http://studio.test" {
		t.Errorf("servers %v, want this server's base URL", model.Model.Servers)
	}
	c, _ := sharedChecker()
	page := app.client().get("/docs/api")
	if page.status != http.StatusOK {
		t.Fatalf("/docs/api: %d", page.status)
	}
	shown := map[string]bool{}
	page.doc.Find("[data-testid=api-operation]").Each(func(_ int, s *goquery.Selection) {
		method := strings.TrimSpace(s.Find(".method").First().Text())
		shown[method+" "+strings.TrimSpace(s.Find("[data-testid=api-path]").Text())] = true
	})
	ops := 0
	for template, item := range c.model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			ops++
			if !shown[strings.ToUpper(method)+" "+template] {
				t.Errorf("/docs/api does not show %s %s", strings.ToUpper(method), template)
			}
		}
	}
	if len(shown) != ops {
		t.Errorf("/docs/api shows %d operations, the document has %d", len(shown), ops)
	}
	schemas := map[string]bool{}
	page.doc.Find("[data-testid=api-schema] h3").Each(func(_ int, s *goquery.Selection) { schemas[strings.TrimSpace(s.Text())] = true })
	for name := range c.model.Components.Schemas.KeysFromOldest() {
		if !schemas[name] {
			t.Errorf("/docs/api does not show the schema %s", name)
		}
	}
	// Links to schemas land on a section of the page.
	page.doc.Find(".api-type a").Each(func(_ int, s *goquery.Selection) {
		href, _ := s.Attr("href")
		if page.doc.Find(href).Length() != 1 {
			t.Errorf("link %s goes nowhere", href)
		}
	})
	// The page loads nothing from elsewhere.
	page.doc.Find("script[src], link[href], img[src]").Each(func(_ int, s *goquery.Selection) {
		for _, attr := range []string{"src", "href"} {
			if v, ok := s.Attr(attr); ok && (strings.Contains(v, "//") || strings.HasPrefix(v, "http")) {
				t.Errorf("/docs/api loads %s from elsewhere", v)
			}
		}
	})
	// The Project's labels and nullable coordinates are on the page.
	project := page.doc.Find("#schema-Project").Text()
	location := page.doc.Find("#schema-Location").Text()
	if !strings.Contains(project, "labels") || !strings.Contains(location, "number or null") {
		t.Errorf("the Project and Location schemas on the page: %q / %q", project, location)
	}
}

// The service account page's examples link to the API reference.
func TestServiceAccountPageLinksAPIReference(t *testing.T) {
	app := newApp(t)
	inv := app.inventory()
	sa := app.addServiceAccount(inv, "Linked")
	page := app.signedIn(adminEmail).get("/projects/" + inv.ID + "/serviceaccounts/" + sa.ID)
	link := page.doc.Find("#sa-examples [data-testid=api-reference-link]")
	if href, _ := link.Attr("href"); page.status != http.StatusOK || href != "/docs/api" {
		t.Fatalf("status %d, link to the reference %q", page.status, href)
	}
	if r := app.client().get("/docs/api"); r.status != http.StatusOK || r.doc.Find("[data-testid=api-reference]").Length() != 1 {
		t.Fatalf("the link's page: status %d", r.status)
	}
}

// consoleScriptJSON reports whether path is one of the console's own JSON
// answers to its script (the WebAuthn options of passkeys.js): console
// routes, not the API this document describes.
func consoleScriptJSON(path string) bool {
	switch path {
	case "/signin/passkey/options", "/signin/verify/passkey", "/account/passkey-options":
		return true
	}
	return false
}
