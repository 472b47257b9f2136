package web_test

// Tests of the REST API v2 against ../shared/api-v2.md: every response is
// decoded strictly (every contract field present, no other), every list is
// walked to its end, and every endpoint is called through both auth schemes.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"studio/domain"
)

var (
	apiIDPattern     = regexp.MustCompile(`^[0-9a-v]{20}$`)
	apiUserIDPattern = regexp.MustCompile(`^[1-9][0-9]*$`)
	apiTimePattern   = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$`)
	apiSecretPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// apiTokenURL is the test server's own token endpoint.
const apiTokenURL = "http://studio.test/oauth2/token"

// apiSchemes are the two ways a program authenticates.
var apiSchemes = []string{"basic", "bearer"}

// The contract's permission matrix, written out (not taken from domain.Roles).
var (
	apiUserPerms = []string{"project.read", "membership.read", "serviceaccount.read", "serviceaccount.key.read",
		"device.read", "sensor.read", "dataconnector.read", "emulator.read"}
	apiDeveloperPerms = append(slices.Clone(apiUserPerms), "device.update", "sensor.update",
		"dataconnector.create", "dataconnector.update", "dataconnector.delete",
		"emulator.create", "emulator.update", "emulator.delete")
	apiAdminPerms = append(slices.Clone(apiDeveloperPerms), "project.update", "project.delete", "device.transfer",
		"membership.create", "membership.update", "membership.delete",
		"serviceaccount.create", "serviceaccount.update", "serviceaccount.delete",
		"serviceaccount.key.create", "serviceaccount.key.delete")
	apiOrgAdminPerms = append(slices.Clone(apiAdminPerms), "project.create", "organization.read", "organization.update")
)

// ---- wire shapes, every field required ----

type apiOrganization struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

type apiLocation struct {
	Latitude     *float64 `json:"latitude"`
	Longitude    *float64 `json:"longitude"`
	TimeLocation string   `json:"timeLocation"`
}

type apiProject struct {
	Name                    string            `json:"name"`
	DisplayName             string            `json:"displayName"`
	Organization            string            `json:"organization"`
	OrganizationDisplayName string            `json:"organizationDisplayName"`
	SensorCount             int               `json:"sensorCount"`
	CloudConnectorCount     int               `json:"cloudConnectorCount"`
	Inventory               bool              `json:"inventory"`
	Location                apiLocation       `json:"location"`
	Labels                  map[string]string `json:"labels"`
}

// apiSameProject compares two decoded projects: coordinates by value,
// labels by content.
func apiSameProject(a, b apiProject) bool { return reflect.DeepEqual(a, b) }

// apiLocationText writes a stored location with its coordinates' values.
func apiLocationText(l domain.Location) string {
	f := func(p *float64) string {
		if p == nil {
			return "null"
		}
		return fmt.Sprint(*p)
	}
	return f(l.Latitude) + "," + f(l.Longitude) + " " + l.TimeLocation
}

// apiPlace is a location with coordinates.
func apiPlace(lat, lng float64, zone string) apiLocation {
	return apiLocation{Latitude: &lat, Longitude: &lng, TimeLocation: zone}
}

type apiServiceAccount struct {
	Name            string `json:"name"`
	Email           string `json:"email"`
	DisplayName     string `json:"displayName"`
	EnableBasicAuth bool   `json:"enableBasicAuth"`
	CreateTime      string `json:"createTime"`
	UpdateTime      string `json:"updateTime"`
}

type apiKey struct {
	Name       string `json:"name"`
	ID         string `json:"id"`
	CreateTime string `json:"createTime"`
}

type apiMember struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"displayName"`
	Roles       []string `json:"roles"`
	Status      string   `json:"status"`
	Email       string   `json:"email"`
	AccountType string   `json:"accountType"`
	CreateTime  string   `json:"createTime"`
}

type apiRole struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"displayName"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
}

type apiErrorBody struct {
	Error string `json:"error"`
	Code  int    `json:"code"`
	Help  string `json:"help"`
}

// ---- fixture ----

// apiEnv is a test app with the services used to make accounts and keys
// as the console would, outside the API under test.
type apiEnv struct {
	t     *testing.T
	app   *testApp
	svc   *domain.ServiceAccounts
	admin domain.Principal // the first organization's admin
}

func apiNewEnv(t *testing.T, opts ...appOption) *apiEnv {
	t.Helper()
	app := newApp(t, opts...)
	e := &apiEnv{t: t, app: app, svc: app.services.ServiceAccounts}
	e.admin = e.principal(adminEmail)
	return e
}

// principal is the console principal of a user.
func (e *apiEnv) principal(email string) domain.Principal {
	e.t.Helper()
	u, err := e.app.store.UserByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatalf("user %s: %v", email, err)
	}
	return domain.UserPrincipal(u, "test")
}

// account makes a service account in project p as actor (an admin of p).
func (e *apiEnv) account(actor domain.Principal, p domain.Project, name string, basic bool) domain.ServiceAccount {
	e.t.Helper()
	sa, err := e.svc.Create(context.Background(), actor, p.ID, domain.ServiceAccountInput{DisplayName: &name, EnableBasicAuth: &basic})
	if err != nil {
		e.t.Fatalf("create service account %q: %v", name, err)
	}
	return sa
}

// key makes a key of sa as actor and returns its id and secret.
func (e *apiEnv) key(actor domain.Principal, sa domain.ServiceAccount) (string, string) {
	e.t.Helper()
	k, secret, err := e.svc.CreateKey(context.Background(), actor, sa.ProjectID, sa.ID)
	if err != nil {
		e.t.Fatalf("create key: %v", err)
	}
	return k.ID, secret
}

// grant gives an account a role: in the project, or (projectID "") in the organization.
func (e *apiEnv) grant(ref domain.AccountRef, orgID, projectID string, role domain.Role) {
	e.t.Helper()
	ctx := context.Background()
	m := domain.Membership{OrganizationID: orgID, ProjectID: projectID, Account: ref, Role: role,
		Status: domain.StatusAccepted, CreateTime: e.app.clock.Now()}
	if err := e.app.store.Update(ctx, func(tx domain.Tx) error { return tx.CreateMembership(ctx, &m) }); err != nil {
		e.t.Fatalf("grant %s: %v", role, err)
	}
}

// apiCaller is a service account with one key.
type apiCaller struct {
	SA     domain.ServiceAccount
	KeyID  string
	Secret string
}

// caller makes a service account owned by p, with Basic Auth on and one key.
func (e *apiEnv) caller(actor domain.Principal, p domain.Project, name string) apiCaller {
	e.t.Helper()
	sa := e.account(actor, p, name, true)
	id, secret := e.key(actor, sa)
	return apiCaller{SA: sa, KeyID: id, Secret: secret}
}

func apiBasic(keyID, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(keyID+":"+secret))
}

// auth returns the caller's Authorization header for the scheme; bearer
// runs the token exchange.
func (e *apiEnv) auth(c apiCaller, scheme string) string {
	e.t.Helper()
	if scheme == "basic" {
		return apiBasic(c.KeyID, c.Secret)
	}
	return "Bearer " + e.token(c)
}

// setUserName gives a user a display name other than the email.
func (e *apiEnv) setUserName(u domain.User, name string) {
	e.t.Helper()
	ctx := context.Background()
	if err := e.app.store.Update(ctx, func(tx domain.Tx) error { return tx.SetUserName(ctx, u.ID, name) }); err != nil {
		e.t.Fatal(err)
	}
}

// snapshot describes everything a refused request must leave alone.
func (e *apiEnv) snapshot() string {
	e.t.Helper()
	ctx := context.Background()
	st := e.app.store
	var b strings.Builder
	must := func(err error) {
		if err != nil {
			e.t.Fatalf("snapshot: %v", err)
		}
	}
	orgs, err := st.ListOrganizations(ctx, domain.AccountRef{}, domain.Cursor{}, 10000)
	must(err)
	for _, o := range orgs {
		fmt.Fprintf(&b, "org %s %q\n", o.ID, o.DisplayName)
		ms, err := st.ListOrgMembers(ctx, o.ID, 0, 10000)
		must(err)
		for _, m := range ms {
			fmt.Fprintf(&b, "  admin %d %v %s %s\n", m.ID, m.Account, m.Role, m.Status)
		}
	}
	projects, err := st.ListProjects(ctx, domain.ProjectFilter{}, domain.Cursor{}, 10000)
	must(err)
	for _, p := range projects {
		fmt.Fprintf(&b, "project %s %s %q %v %s %v %s\n", p.ID, p.OrganizationID, p.DisplayName, p.Inventory,
			apiLocationText(p.Location), p.Labels, p.UpdateTime)
		sas, err := st.ListServiceAccounts(ctx, domain.ServiceAccountFilter{ProjectID: p.ID}, domain.Cursor{}, 10000)
		must(err)
		for _, sa := range sas {
			fmt.Fprintf(&b, "  sa %s %q %v %s\n", sa.ID, sa.DisplayName, sa.EnableBasicAuth, sa.UpdateTime)
			keys, err := st.ListKeys(ctx, sa.ID, "", 100)
			must(err)
			for _, k := range keys {
				fmt.Fprintf(&b, "    key %s\n", k.ID)
			}
		}
		ms, err := st.ListProjectMembers(ctx, p.ID, "", 0, 10000)
		must(err)
		for _, m := range ms {
			fmt.Fprintf(&b, "  member %d %v %s %s\n", m.ID, m.Account, m.Role, m.Status)
		}
	}
	n, err := st.CountUsers(ctx)
	must(err)
	fmt.Fprintf(&b, "users %d\n", n)
	audit, err := st.ListAudit(ctx, domain.AuditFilter{}, 0, 1)
	must(err)
	if len(audit) > 0 {
		fmt.Fprintf(&b, "audit %d\n", audit[0].ID)
	}
	return b.String()
}

// ---- HTTP ----

type apiResponse struct {
	status int
	header http.Header
	body   []byte
}

func (r apiResponse) String() string { return fmt.Sprintf("status %d body %s", r.status, r.body) }

// apiSend sends a request to the test server.
func apiSend(t testing.TB, app *testApp, req *http.Request) apiResponse {
	t.Helper()
	resp, err := app.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return apiResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

// call sends an API request. body is nil (no body), a string or []byte
// (sent as is) or anything else (sent as JSON).
func (e *apiEnv) call(method, path, auth string, body any) apiResponse {
	e.t.Helper()
	return apiCall(e.t, e.app, method, path, auth, body)
}

func apiCall(t testing.TB, app *testApp, method, path, auth string, body any) apiResponse {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, app.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return apiSend(t, app, req)
}

// ---- strict decoding ----

// apiObject decodes raw as one JSON object whose keys are exactly want,
// none of them null but those written with a trailing "?" ("latitude?").
func apiObject(t testing.TB, raw []byte, want ...string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		t.Fatalf("not a JSON object (%v): %s", err, raw)
	}
	w := make([]string, len(want))
	nullable := map[string]bool{}
	for i, k := range want {
		name, maybeNull := strings.CutSuffix(k, "?")
		w[i], nullable[name] = name, maybeNull
	}
	got := make([]string, 0, len(m))
	for k, v := range m {
		got = append(got, k)
		if string(v) == "null" && !nullable[k] {
			t.Errorf("field %q is null in %s", k, raw)
		}
	}
	sort.Strings(got)
	sort.Strings(w)
	if !slices.Equal(got, w) {
		t.Fatalf("keys %v, want exactly %v, in %s", got, w, raw)
	}
	return m
}

// apiStrict decodes raw into v with unknown fields refused, after checking
// its key set is exactly want.
func apiStrict(t testing.TB, raw []byte, v any, want ...string) map[string]json.RawMessage {
	t.Helper()
	m := apiObject(t, raw, want...)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("strict decode into %T: %v: %s", v, err, raw)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value: %s", raw)
	}
	return m
}

func apiCheckTime(t testing.TB, what, s string) time.Time {
	t.Helper()
	if !apiTimePattern.MatchString(s) {
		t.Errorf("%s %q is not RFC 3339 UTC with 6 fractional digits", what, s)
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Errorf("%s %q: %v", what, s, err)
	}
	return tm
}

func apiCheckID(t testing.TB, what, id string) {
	t.Helper()
	if !apiIDPattern.MatchString(id) {
		t.Errorf("%s %q is not 20 lowercase base32hex characters", what, id)
	}
}

// apiLastSegment is the id clients take from a resource name.
func apiLastSegment(name string) string { return name[strings.LastIndex(name, "/")+1:] }

func apiDecodeOrganization(t testing.TB, raw []byte) apiOrganization {
	t.Helper()
	var o apiOrganization
	apiStrict(t, raw, &o, "name", "displayName")
	if !strings.HasPrefix(o.Name, "organizations/") || strings.Count(o.Name, "/") != 1 {
		t.Errorf("organization name %q", o.Name)
	}
	apiCheckID(t, "organization id", apiLastSegment(o.Name))
	return o
}

func apiDecodeProject(t testing.TB, raw []byte) apiProject {
	t.Helper()
	var p apiProject
	m := apiStrict(t, raw, &p, "name", "displayName", "organization", "organizationDisplayName",
		"sensorCount", "cloudConnectorCount", "inventory", "location", "labels")
	// The coordinates are null together (none given), or numbers together.
	var loc map[string]json.RawMessage
	if err := json.Unmarshal(m["location"], &loc); err != nil {
		t.Fatalf("location: %v: %s", err, m["location"])
	}
	if (string(loc["latitude"]) == "null") != (string(loc["longitude"]) == "null") {
		t.Errorf("one coordinate is null, the other not: %s", m["location"])
	}
	apiObject(t, m["location"], "latitude?", "longitude?", "timeLocation")
	if p.Labels == nil {
		t.Errorf("labels is not an object: %s", m["labels"])
	}
	if !strings.HasPrefix(p.Name, "projects/") || strings.Count(p.Name, "/") != 1 {
		t.Errorf("project name %q", p.Name)
	}
	apiCheckID(t, "project id", apiLastSegment(p.Name))
	if !strings.HasPrefix(p.Organization, "organizations/") {
		t.Errorf("project organization %q", p.Organization)
	}
	apiCheckID(t, "organization id", apiLastSegment(p.Organization))
	return p
}

func apiDecodeServiceAccount(t testing.TB, raw []byte) apiServiceAccount {
	t.Helper()
	var sa apiServiceAccount
	apiStrict(t, raw, &sa, "name", "email", "displayName", "enableBasicAuth", "createTime", "updateTime")
	parts := strings.Split(sa.Name, "/")
	if len(parts) != 4 || parts[0] != "projects" || parts[2] != "serviceaccounts" {
		t.Fatalf("service account name %q", sa.Name)
	}
	apiCheckID(t, "project id", parts[1])
	apiCheckID(t, "service account id", parts[3])
	if want := parts[3] + "@" + parts[1] + ".serviceaccount.d21s.com"; sa.Email != want {
		t.Errorf("service account email %q, want %q", sa.Email, want)
	}
	c := apiCheckTime(t, "createTime", sa.CreateTime)
	u := apiCheckTime(t, "updateTime", sa.UpdateTime)
	if u.Before(c) {
		t.Errorf("updateTime %s before createTime %s", sa.UpdateTime, sa.CreateTime)
	}
	return sa
}

func apiDecodeKey(t testing.TB, raw []byte) apiKey {
	t.Helper()
	var k apiKey
	apiStrict(t, raw, &k, "name", "id", "createTime")
	parts := strings.Split(k.Name, "/")
	if len(parts) != 6 || parts[0] != "projects" || parts[2] != "serviceaccounts" || parts[4] != "keys" || parts[5] != k.ID {
		t.Errorf("key name %q (id %q)", k.Name, k.ID)
	}
	apiCheckID(t, "key id", k.ID)
	apiCheckTime(t, "createTime", k.CreateTime)
	return k
}

func apiDecodeMember(t testing.TB, raw []byte) apiMember {
	t.Helper()
	var m apiMember
	apiStrict(t, raw, &m, "name", "displayName", "roles", "status", "email", "accountType", "createTime")
	parts := strings.Split(m.Name, "/")
	if len(parts) != 4 || (parts[0] != "projects" && parts[0] != "organizations") || parts[2] != "members" {
		t.Fatalf("member name %q", m.Name)
	}
	apiCheckID(t, "scope id", parts[1])
	switch m.AccountType {
	case "USER":
		if !apiUserIDPattern.MatchString(parts[3]) {
			t.Errorf("user member id %q is not a numeric string", parts[3])
		}
	case "SERVICE_ACCOUNT":
		apiCheckID(t, "service account member id", parts[3])
		if !strings.HasPrefix(m.Email, parts[3]+"@") {
			t.Errorf("service account member id %q is not the account's own id (email %q)", parts[3], m.Email)
		}
	default:
		t.Errorf("accountType %q", m.AccountType)
	}
	if m.Status != "PENDING" && m.Status != "ACCEPTED" {
		t.Errorf("status %q", m.Status)
	}
	if len(m.Roles) != 1 {
		t.Errorf("roles %v: want exactly one", m.Roles)
	}
	if m.Email != strings.ToLower(m.Email) {
		t.Errorf("email %q is not lower-case", m.Email)
	}
	apiCheckTime(t, "createTime", m.CreateTime)
	return m
}

func apiDecodeRole(t testing.TB, raw []byte) apiRole {
	t.Helper()
	var r apiRole
	apiStrict(t, raw, &r, "name", "displayName", "description", "permissions")
	return r
}

// apiDecodeError checks the contract's error body and status.
func apiDecodeError(t testing.TB, r apiResponse, status int) apiErrorBody {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	apiCheckJSON(t, r)
	var e apiErrorBody
	apiStrict(t, r.body, &e, "error", "code", "help")
	if e.Code != status || e.Error == "" || !strings.HasPrefix(e.Help, "http") {
		t.Errorf("error body %+v for status %d", e, status)
	}
	return e
}

func apiCheckJSON(t testing.TB, r apiResponse) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
}

// apiOK requires HTTP 200 with a JSON body.
func apiOK(t testing.TB, r apiResponse) []byte {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	apiCheckJSON(t, r)
	return r.body
}

// apiEmpty requires HTTP 200 with exactly {}.
func apiEmpty(t testing.TB, r apiResponse) {
	t.Helper()
	apiOK(t, r)
	if got := strings.TrimSpace(string(r.body)); got != "{}" {
		t.Fatalf("body %q, want {}", got)
	}
}

// apiList decodes a list response: the plural key and nextPageToken, nothing else.
func apiList(t testing.TB, r apiResponse, plural string) ([]json.RawMessage, string) {
	t.Helper()
	m := apiObject(t, apiOK(t, r), plural, "nextPageToken")
	var items []json.RawMessage
	if err := json.Unmarshal(m[plural], &items); err != nil || items == nil {
		t.Fatalf("%s is not an array: %s", plural, m[plural])
	}
	var next string
	if err := json.Unmarshal(m["nextPageToken"], &next); err != nil {
		t.Fatalf("nextPageToken is not a string: %s", m["nextPageToken"])
	}
	return items, next
}

// apiItemName is an item's identity in a list: its name, or the string itself.
func apiItemName(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var named struct{ Name string }
	if err := json.Unmarshal(raw, &named); err != nil || named.Name == "" {
		t.Fatalf("list item without a name: %s", raw)
	}
	return named.Name
}

// apiWalk pages through a list with two items a page, alternating the
// camelCase and snake_case parameters, and checks that each item comes once
// and that the walk gives the same items, in order, as one big page.
func apiWalk(t testing.TB, app *testApp, auth, path, plural string) []json.RawMessage {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var all []json.RawMessage
	seen := map[string]bool{}
	token := ""
	for page := 0; ; page++ {
		if page > 200 {
			t.Fatalf("%s: pagination does not end", path)
		}
		q := sep + "pageSize=2"
		if token != "" {
			q += "&pageToken=" + url.QueryEscape(token)
		}
		if page%2 == 1 {
			q = strings.NewReplacer("pageSize", "page_size", "pageToken", "page_token").Replace(q)
		}
		items, next := apiList(t, apiCall(t, app, http.MethodGet, path+q, auth, nil), plural)
		if len(items) > 2 {
			t.Fatalf("%s: %d items on a page of 2", path, len(items))
		}
		if next != "" && len(items) == 0 {
			t.Fatalf("%s: empty page with a next page token", path)
		}
		for _, it := range items {
			name := apiItemName(t, it)
			if seen[name] {
				t.Fatalf("%s: %s listed twice while paging (page %d)", path, name, page+1)
			}
			seen[name] = true
			all = append(all, it)
		}
		if next == "" {
			break
		}
		token = next
	}
	whole, next := apiList(t, apiCall(t, app, http.MethodGet, path+sep+"pageSize=1000", auth, nil), plural)
	if next != "" {
		t.Fatalf("%s: nextPageToken %q on the last page", path, next)
	}
	if len(whole) != len(all) {
		t.Fatalf("%s: paging gave %d items, one page %d", path, len(all), len(whole))
	}
	for i := range whole {
		if apiItemName(t, whole[i]) != apiItemName(t, all[i]) {
			t.Fatalf("%s: item %d is %s paging, %s in one page", path, i, apiItemName(t, all[i]), apiItemName(t, whole[i]))
		}
	}
	return all
}

// apiDiff lists the lines of two snapshots that differ.
func apiDiff(before, after string) string {
	was := strings.Split(before, "\n")
	now := strings.Split(after, "\n")
	var b strings.Builder
	for _, l := range was {
		if !slices.Contains(now, l) {
			b.WriteString("\n- " + l)
		}
	}
	for _, l := range now {
		if !slices.Contains(was, l) {
			b.WriteString("\n+ " + l)
		}
	}
	return b.String()
}

func apiNames(t testing.TB, items []json.RawMessage) []string {
	t.Helper()
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = apiItemName(t, it)
	}
	return out
}

func apiSameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

func apiStrings(t testing.TB, items []json.RawMessage) []string {
	t.Helper()
	out := make([]string, len(items))
	for i, it := range items {
		if err := json.Unmarshal(it, &out[i]); err != nil {
			t.Fatalf("not a string: %s", it)
		}
	}
	return out
}

// ---- tests ----

// TestAPIListsStrictAndPaginated walks every list of the contract to its
// end with two items a page, through both auth schemes, and refuses bad
// page sizes and tokens with the error body.
func TestAPIListsStrictAndPaginated(t *testing.T) {
	e := apiNewEnv(t)
	app := e.app
	inv := app.inventory()
	robot := e.caller(e.admin, inv, "Robot")
	e.grant(robot.SA.Ref(), app.org.ID, "", domain.RoleOrgAdmin)
	partner, partnerAdmin := app.addOrg("Partner", "partner@example.com")
	partnerPrincipal := domain.UserPrincipal(partnerAdmin, "test")
	for _, name := range []string{"Partner plant", "Partner lab", "Partner depot"} {
		e.grant(robot.SA.Ref(), partner.ID, app.addProject(partner.ID, name).ID, domain.RoleProjectUser)
	}
	app.addOrg("Hidden", "hidden@example.com")
	var acmeProjects []domain.Project
	for _, name := range []string{"Alpha", "beta", "Gamma", "delta", "Epsilon"} {
		acmeProjects = append(acmeProjects, app.addProject(app.org.ID, name))
	}
	// A member whose memberships are made newest project id first, so the
	// order of creation and the order of project ids differ.
	member := app.addUser("member@example.com", "", "", "")
	memberID := itoa(member.ID)
	byID := slices.Clone(append(acmeProjects, inv))
	sort.Slice(byID, func(i, j int) bool { return byID[i].ID > byID[j].ID })
	for _, p := range byID {
		e.grant(domain.AccountRef{Type: domain.AccountUser, ID: memberID}, app.org.ID, p.ID, domain.RoleProjectUser)
	}
	for i := 0; i < 4; i++ {
		app.addUser(fmt.Sprintf("user%d@example.com", i), inv.ID, domain.RoleProjectDev, "")
		app.addUser(fmt.Sprintf("orgadmin%d@example.com", i), "", "", app.org.ID)
		e.account(e.admin, inv, fmt.Sprintf("Account %d", i), false)
		e.key(e.admin, robot.SA)
	}
	partnerSA := e.account(partnerPrincipal, app.addProject(partner.ID, "Partner hidden"), "Partner bot", false)
	e.grant(partnerSA.Ref(), app.org.ID, inv.ID, domain.RoleProjectUser)

	lists := []struct {
		path, plural string
		want         int
		check        func(testing.TB, []byte)
	}{
		{"/v2/organizations", "organizations", 2, func(t testing.TB, b []byte) { apiDecodeOrganization(t, b) }},
		{"/v2/organizations/" + app.org.ID + "/members", "members", 6, func(t testing.TB, b []byte) { apiDecodeMember(t, b) }},
		{"/v2/organizations/" + app.org.ID + "/permissions", "permissions", len(apiOrgAdminPerms), nil},
		{"/v2/projects", "projects", 6 + 3, func(t testing.TB, b []byte) { apiDecodeProject(t, b) }},
		{"/v2/projects?organization=organizations/" + partner.ID, "projects", 3, func(t testing.TB, b []byte) { apiDecodeProject(t, b) }},
		{"/v2/projects/" + inv.ID + "/members", "members", 4 + 1 + 1, func(t testing.TB, b []byte) { apiDecodeMember(t, b) }},
		{"/v2/projects/-/members?organization=organizations/" + app.org.ID + "&memberId=" + memberID, "members", 6,
			func(t testing.TB, b []byte) { apiDecodeMember(t, b) }},
		{"/v2/projects/" + inv.ID + "/permissions", "permissions", len(apiOrgAdminPerms), nil},
		{"/v2/projects/" + inv.ID + "/serviceaccounts", "serviceAccounts", 5, func(t testing.TB, b []byte) { apiDecodeServiceAccount(t, b) }},
		{"/v2/projects/" + inv.ID + "/serviceaccounts/" + robot.SA.ID + "/keys", "keys", 5, func(t testing.TB, b []byte) { apiDecodeKey(t, b) }},
		{"/v2/roles", "roles", 4, func(t testing.TB, b []byte) { apiDecodeRole(t, b) }},
	}
	for _, scheme := range apiSchemes {
		auth := e.auth(robot, scheme)
		for _, l := range lists {
			t.Run(scheme+l.path, func(t *testing.T) {
				items := apiWalk(t, app, auth, l.path, l.plural)
				if len(items) != l.want {
					t.Errorf("%d items, want %d: %v", len(items), l.want, apiNames(t, items))
				}
				for _, it := range items {
					if l.check != nil {
						l.check(t, it)
					}
				}
			})
		}
	}

	auth := e.auth(robot, "basic")
	t.Run("default and largest page size", func(t *testing.T) {
		crowd := app.addProject(app.org.ID, "Crowd")
		app.seedServiceAccounts(crowd, 150)
		path := "/v2/projects/" + crowd.ID + "/serviceaccounts"
		items, next := apiList(t, e.call(http.MethodGet, path, auth, nil), "serviceAccounts")
		if len(items) != 100 || next == "" {
			t.Fatalf("default page: %d items, next %q; want 100 and a token", len(items), next)
		}
		rest, last := apiList(t, e.call(http.MethodGet, path+"?pageToken="+url.QueryEscape(next)+"&pageSize=1000", auth, nil), "serviceAccounts")
		if len(rest) != 50 || last != "" {
			t.Fatalf("second page: %d items, next %q; want 50 and \"\"", len(rest), last)
		}
		all, last := apiList(t, e.call(http.MethodGet, path+"?page_size=1000", auth, nil), "serviceAccounts")
		if len(all) != 150 || last != "" {
			t.Fatalf("page of 1000: %d items, next %q", len(all), last)
		}
	})

	t.Run("bad page size and token", func(t *testing.T) {
		for _, l := range lists {
			sep := "?"
			if strings.Contains(l.path, "?") {
				sep = "&"
			}
			for _, q := range []string{"pageSize=0", "pageSize=1001", "pageSize=abc", "pageSize=-1", "pageSize=2.5",
				"page_size=0", "page_size=1001", "page_size=abc",
				"pageToken=garbage", "pageToken=Zm9vYmFy", "page_token=%21%21%21"} {
				r := e.call(http.MethodGet, l.path+sep+q, auth, nil)
				if r.status != http.StatusBadRequest {
					t.Errorf("GET %s%s%s: %s, want 400", l.path, sep, q, r)
					continue
				}
				apiDecodeError(t, r, http.StatusBadRequest)
			}
		}
	})
}

// TestAPIOrganizationEndpoints covers organizations, their members and
// permissions, through both auth schemes.
func TestAPIOrganizationEndpoints(t *testing.T) {
	for _, scheme := range apiSchemes {
		t.Run(scheme, func(t *testing.T) { apiOrganizationFlow(t, scheme) })
	}
}

func apiOrganizationFlow(t *testing.T, scheme string) {
	e := apiNewEnv(t)
	app := e.app
	inv := app.inventory()
	robot := e.caller(e.admin, inv, "Robot")
	e.grant(robot.SA.Ref(), app.org.ID, "", domain.RoleOrgAdmin)
	auth := e.auth(robot, scheme)
	partner, partnerAdmin := app.addOrg("Partner", "partner@example.com")
	partnerProject := app.addProject(partner.ID, "Partner plant")
	e.grant(robot.SA.Ref(), partner.ID, partnerProject.ID, domain.RoleProjectUser)
	partnerSA := e.account(domain.UserPrincipal(partnerAdmin, "test"), partnerProject, "Partner bot", false)
	hidden, _ := app.addOrg("Hidden", "hidden@example.com")
	acme := "/v2/organizations/" + app.org.ID

	// List and get.
	items, next := apiList(t, e.call(http.MethodGet, "/v2/organizations", auth, nil), "organizations")
	var orgs []apiOrganization
	for _, it := range items {
		orgs = append(orgs, apiDecodeOrganization(t, it))
	}
	wantOrgs := []apiOrganization{{"organizations/" + app.org.ID, "Acme"}, {"organizations/" + partner.ID, "Partner"}}
	if !slices.Equal(orgs, wantOrgs) || next != "" {
		t.Fatalf("organizations %+v next %q, want %+v", orgs, next, wantOrgs)
	}
	if got := apiDecodeOrganization(t, apiOK(t, e.call(http.MethodGet, acme, auth, nil))); got != wantOrgs[0] {
		t.Fatalf("get Acme = %+v", got)
	}
	if got := apiDecodeOrganization(t, apiOK(t, e.call(http.MethodGet, "/v2/organizations/"+partner.ID, auth, nil))); got != wantOrgs[1] {
		t.Fatalf("get Partner (through a project) = %+v", got)
	}
	for _, id := range []string{hidden.ID, "zzzzzzzzzzzzzzzzzzzz", "nonsense"} {
		apiDecodeError(t, e.call(http.MethodGet, "/v2/organizations/"+id, auth, nil), http.StatusNotFound)
	}

	// Members.
	items, _ = apiList(t, e.call(http.MethodGet, acme+"/members", auth, nil), "members")
	byEmail := map[string]apiMember{}
	for _, it := range items {
		m := apiDecodeMember(t, it)
		byEmail[m.Email] = m
	}
	admin := e.principal(adminEmail)
	if m := byEmail[adminEmail]; m.Name != "organizations/"+app.org.ID+"/members/"+itoa(admin.UserID) ||
		m.AccountType != "USER" || m.Status != "ACCEPTED" || !slices.Equal(m.Roles, []string{"roles/organization.admin"}) {
		t.Errorf("admin member = %+v", m)
	}
	if m := byEmail[robot.SA.Email]; m.Name != "organizations/"+app.org.ID+"/members/"+robot.SA.ID ||
		m.AccountType != "SERVICE_ACCOUNT" || m.DisplayName != "Robot" || m.Status != "ACCEPTED" {
		t.Errorf("robot member = %+v", m)
	}
	if len(byEmail) != 2 {
		t.Errorf("members %v", byEmail)
	}
	apiDecodeError(t, e.call(http.MethodGet, "/v2/organizations/"+partner.ID+"/members", auth, nil), http.StatusForbidden)
	apiDecodeError(t, e.call(http.MethodGet, "/v2/organizations/"+hidden.ID+"/members", auth, nil), http.StatusNotFound)

	carol := app.addUser("carol@example.com", "", "", "")
	e.setUserName(carol, "Carol Jones")
	orgAdmin := []string{"roles/organization.admin"}
	created := apiDecodeMember(t, apiOK(t, e.call(http.MethodPost, acme+"/members", auth,
		map[string]any{"roles": orgAdmin, "email": "  Carol@Example.COM "})))
	want := apiMember{Name: "organizations/" + app.org.ID + "/members/" + itoa(carol.ID), DisplayName: "Carol Jones",
		Roles: orgAdmin, Status: "ACCEPTED", Email: "carol@example.com", AccountType: "USER", CreateTime: created.CreateTime}
	if !apiSameMember(created, want) {
		t.Fatalf("existing user added: %+v, want %+v", created, want)
	}
	sam := apiDecodeMember(t, apiOK(t, e.call(http.MethodPost, acme+"/members", auth,
		map[string]any{"roles": orgAdmin, "email": partnerSA.Email})))
	if sam.Name != "organizations/"+app.org.ID+"/members/"+partnerSA.ID || sam.Status != "ACCEPTED" ||
		sam.AccountType != "SERVICE_ACCOUNT" || sam.DisplayName != "Partner bot" || sam.Email != partnerSA.Email {
		t.Fatalf("service account of another organization added: %+v", sam)
	}
	newbie := apiDecodeMember(t, apiOK(t, e.call(http.MethodPost, acme+"/members", auth,
		map[string]any{"roles": orgAdmin, "email": "newbie@example.com"})))
	if newbie.Status != "PENDING" || newbie.DisplayName != "newbie@example.com" || newbie.Email != "newbie@example.com" ||
		newbie.AccountType != "USER" || !slices.Equal(newbie.Roles, orgAdmin) {
		t.Fatalf("unknown email added: %+v", newbie)
	}
	before := e.snapshot()
	apiDecodeError(t, e.call(http.MethodPost, acme+"/members", auth, map[string]any{"roles": orgAdmin, "email": "NEWBIE@example.com"}), http.StatusConflict)
	apiDecodeError(t, e.call(http.MethodPost, acme+"/members", auth, map[string]any{"roles": orgAdmin, "email": "carol@example.com"}), http.StatusConflict)
	for _, body := range []any{
		map[string]any{"roles": []string{"roles/project.user"}, "email": "x1@example.com"},
		map[string]any{"roles": []string{"roles/project.admin"}, "email": "x2@example.com"},
		map[string]any{"roles": []string{}, "email": "x3@example.com"},
		map[string]any{"roles": []string{"roles/organization.admin", "roles/organization.admin"}, "email": "x4@example.com"},
		map[string]any{"roles": []string{"roles/bogus"}, "email": "x5@example.com"},
		map[string]any{"roles": orgAdmin},
		map[string]any{"roles": orgAdmin, "email": "not an email"},
		map[string]any{"roles": orgAdmin, "email": "x6@example.com", "colour": "red"},
		map[string]any{"roles": "roles/organization.admin", "email": "x7@example.com"},
	} {
		r := e.call(http.MethodPost, acme+"/members", auth, body)
		if r.status != http.StatusBadRequest {
			t.Errorf("POST members %v: %s, want 400", body, r)
			continue
		}
		apiDecodeError(t, r, http.StatusBadRequest)
	}
	apiDecodeError(t, e.call(http.MethodPost, "/v2/organizations/"+partner.ID+"/members", auth,
		map[string]any{"roles": orgAdmin, "email": "x8@example.com"}), http.StatusForbidden)
	apiDecodeError(t, e.call(http.MethodPost, "/v2/organizations/"+hidden.ID+"/members", auth,
		map[string]any{"roles": orgAdmin, "email": "x9@example.com"}), http.StatusNotFound)
	if after := e.snapshot(); after != before {
		t.Fatalf("a refused member request changed the store: %s", apiDiff(before, after))
	}

	got := apiDecodeMember(t, apiOK(t, e.call(http.MethodGet, acme+"/members/"+itoa(carol.ID), auth, nil)))
	if !apiSameMember(got, created) {
		t.Fatalf("get member = %+v, want %+v", got, created)
	}
	apiDecodeError(t, e.call(http.MethodGet, acme+"/members/999999", auth, nil), http.StatusNotFound)
	apiDecodeError(t, e.call(http.MethodGet, acme+"/members/nonsense", auth, nil), http.StatusNotFound)

	// Invite links: only for a pending user.
	newbieID := apiLastSegment(newbie.Name)
	var link struct {
		InviteURL string `json:"inviteUrl"`
	}
	apiStrict(t, apiOK(t, e.call(http.MethodGet, acme+"/members/"+newbieID+":getInviteUrl", auth, nil)), &link, "inviteUrl")
	if !strings.HasPrefix(link.InviteURL, "http://studio.test/invite/") {
		t.Fatalf("inviteUrl %q", link.InviteURL)
	}
	apiDecodeError(t, e.call(http.MethodGet, acme+"/members/"+itoa(carol.ID)+":getInviteUrl", auth, nil), http.StatusBadRequest)
	apiDecodeError(t, e.call(http.MethodGet, acme+"/members/"+partnerSA.ID+":getInviteUrl", auth, nil), http.StatusBadRequest)

	// Delete: the account stays.
	apiEmpty(t, e.call(http.MethodDelete, acme+"/members/"+itoa(carol.ID), auth, nil))
	apiDecodeError(t, e.call(http.MethodGet, acme+"/members/"+itoa(carol.ID), auth, nil), http.StatusNotFound)
	if _, err := app.store.UserByEmail(context.Background(), "carol@example.com"); err != nil {
		t.Fatalf("the user went with the membership: %v", err)
	}
	apiDecodeError(t, e.call(http.MethodDelete, acme+"/members/"+itoa(carol.ID), auth, nil), http.StatusNotFound)

	// Permissions: the caller's own.
	perms := apiStrings(t, apiWalk(t, app, auth, acme+"/permissions", "permissions"))
	if !apiSameSet(perms, apiOrgAdminPerms) {
		t.Errorf("organization permissions %v, want %v", perms, apiOrgAdminPerms)
	}
	if perms := apiStrings(t, apiWalk(t, app, auth, "/v2/organizations/"+partner.ID+"/permissions", "permissions")); len(perms) != 0 {
		t.Errorf("permissions in an organization the caller does not administer: %v", perms)
	}
	apiDecodeError(t, e.call(http.MethodGet, "/v2/organizations/"+hidden.ID+"/permissions", auth, nil), http.StatusNotFound)
}

// apiSameMember compares members; both must have the same fields.
func apiSameMember(a, b apiMember) bool {
	return a.Name == b.Name && a.DisplayName == b.DisplayName && slices.Equal(a.Roles, b.Roles) && a.Status == b.Status &&
		a.Email == b.Email && a.AccountType == b.AccountType && a.CreateTime == b.CreateTime
}

// TestAPIProjectEndpoints covers projects: one account sees its projects in
// every organization, filters, create, partial update and delete.
func TestAPIProjectEndpoints(t *testing.T) {
	for _, scheme := range apiSchemes {
		t.Run(scheme, func(t *testing.T) { apiProjectFlow(t, scheme) })
	}
}

func apiProjectFlow(t *testing.T, scheme string) {
	e := apiNewEnv(t)
	app := e.app
	inv := app.inventory()
	robot := e.caller(e.admin, inv, "Robot")
	e.grant(robot.SA.Ref(), app.org.ID, "", domain.RoleOrgAdmin)
	auth := e.auth(robot, scheme)
	alpha := app.addProject(app.org.ID, "Alpha plant")
	beta := app.addProject(app.org.ID, "Beta lab")
	partner, _ := app.addOrg("Partner", "partner@example.com")
	pPlant := app.addProject(partner.ID, "Partner plant")
	pLab := app.addProject(partner.ID, "Partner lab")
	app.addProject(partner.ID, "Partner secret")
	e.grant(robot.SA.Ref(), partner.ID, pPlant.ID, domain.RoleProjectUser)
	e.grant(robot.SA.Ref(), partner.ID, pLab.ID, domain.RoleProjectDev)
	hidden, _ := app.addOrg("Hidden", "hidden@example.com")

	names := func(path string) []string {
		t.Helper()
		items := apiWalk(t, app, auth, path, "projects")
		out := make([]string, len(items))
		for i, it := range items {
			out[i] = apiDecodeProject(t, it).DisplayName
		}
		return out
	}
	// One account sees all its clients' projects, across organizations, by name.
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"Alpha plant", "Beta lab", "Inventory", "Partner lab", "Partner plant"}},
		{"?organization=organizations/" + partner.ID, []string{"Partner lab", "Partner plant"}},
		{"?organization=organizations/" + app.org.ID, []string{"Alpha plant", "Beta lab", "Inventory"}},
		{"?query=plant", []string{"Alpha plant", "Partner plant"}},
		{"?query=PLANT&organization=organizations/" + partner.ID, []string{"Partner plant"}},
		{"?query=nothing-matches", []string{}},
	} {
		if got := names("/v2/projects" + tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("GET /v2/projects%s = %v, want %v", tc.query, got, tc.want)
		}
	}
	if r := e.call(http.MethodGet, "/v2/projects?organization=organizations/"+hidden.ID, auth, nil); r.status == http.StatusOK {
		if items, _ := apiList(t, r, "projects"); len(items) != 0 {
			t.Errorf("projects of an organization the caller cannot see: %s", r.body)
		}
	}
	apiDecodeError(t, e.call(http.MethodGet, "/v2/projects?organization=garbage", auth, nil), http.StatusBadRequest)

	// Fields of a listed project.
	got := apiDecodeProject(t, apiOK(t, e.call(http.MethodGet, "/v2/projects/"+inv.ID, auth, nil)))
	wantInv := apiProject{Name: "projects/" + inv.ID, DisplayName: "Inventory", Organization: "organizations/" + app.org.ID,
		OrganizationDisplayName: "Acme", Inventory: true, Labels: map[string]string{}}
	if !apiSameProject(got, wantInv) {
		t.Fatalf("inventory = %+v, want %+v", got, wantInv)
	}
	got = apiDecodeProject(t, apiOK(t, e.call(http.MethodGet, "/v2/projects/"+pPlant.ID, auth, nil)))
	if got.Organization != "organizations/"+partner.ID || got.OrganizationDisplayName != "Partner" || got.Inventory {
		t.Fatalf("partner project = %+v", got)
	}
	apiDecodeError(t, e.call(http.MethodGet, "/v2/projects/zzzzzzzzzzzzzzzzzzzz", auth, nil), http.StatusNotFound)

	// Create.
	oslo := apiPlace(59.9139, 10.7522, "Europe/Oslo")
	created := apiDecodeProject(t, apiOK(t, e.call(http.MethodPost, "/v2/projects", auth, map[string]any{
		"organization": "organizations/" + app.org.ID, "displayName": "Gamma", "location": oslo})))
	gammaID := apiLastSegment(created.Name)
	wantGamma := apiProject{Name: "projects/" + gammaID, DisplayName: "Gamma", Organization: "organizations/" + app.org.ID,
		OrganizationDisplayName: "Acme", Location: oslo, Labels: map[string]string{}}
	if !apiSameProject(created, wantGamma) {
		t.Fatalf("created %+v, want %+v", created, wantGamma)
	}
	if got := apiDecodeProject(t, apiOK(t, e.call(http.MethodGet, "/v2/projects/"+gammaID, auth, nil))); !apiSameProject(got, wantGamma) {
		t.Fatalf("get created = %+v", got)
	}
	plain := apiDecodeProject(t, apiOK(t, e.call(http.MethodPost, "/v2/projects", auth, map[string]any{
		"organization": "organizations/" + app.org.ID, "displayName": "No place"})))
	if !reflect.DeepEqual(plain.Location, apiLocation{}) || plain.Inventory || plain.SensorCount != 0 {
		t.Fatalf("created without location: %+v", plain)
	}
	before := e.snapshot()
	for _, tc := range []struct {
		body   any
		status int
	}{
		{map[string]any{"organization": "organizations/" + partner.ID, "displayName": "Nope"}, http.StatusForbidden},
		{map[string]any{"organization": "organizations/" + hidden.ID, "displayName": "Nope"}, http.StatusNotFound},
		{map[string]any{"displayName": "No organization"}, http.StatusBadRequest},
		{map[string]any{"organization": "organizations/" + app.org.ID}, http.StatusBadRequest},
		{map[string]any{"organization": "organizations/" + app.org.ID, "displayName": "   "}, http.StatusBadRequest},
		{map[string]any{"organization": "organizations/" + app.org.ID, "displayName": "Bad", "location": map[string]any{"latitude": 91}}, http.StatusBadRequest},
		{map[string]any{"organization": "organizations/" + app.org.ID, "displayName": "Bad", "location": map[string]any{"timeLocation": "Mars/Olympus"}}, http.StatusBadRequest},
		{map[string]any{"organization": "organizations/" + app.org.ID, "displayName": 7}, http.StatusBadRequest},
		{map[string]any{"organization": "organizations/" + app.org.ID, "displayName": "Bad", "colour": "red"}, http.StatusBadRequest},
	} {
		r := e.call(http.MethodPost, "/v2/projects", auth, tc.body)
		if r.status != tc.status {
			t.Errorf("POST /v2/projects %v: %s, want %d", tc.body, r, tc.status)
			continue
		}
		apiDecodeError(t, r, tc.status)
	}
	if after := e.snapshot(); after != before {
		t.Fatalf("a refused create changed the store: %s", apiDiff(before, after))
	}

	// Partial update.
	gamma := "/v2/projects/" + gammaID
	patch := func(query string, body any) apiProject {
		t.Helper()
		p := apiDecodeProject(t, apiOK(t, e.call(http.MethodPatch, gamma+query, auth, body)))
		if stored := apiDecodeProject(t, apiOK(t, e.call(http.MethodGet, gamma, auth, nil))); !apiSameProject(stored, p) {
			t.Fatalf("PATCH answered %+v, GET gives %+v", p, stored)
		}
		return p
	}
	wantGamma.DisplayName = "Gamma 2"
	if got := patch("", map[string]any{"displayName": "Gamma 2"}); !apiSameProject(got, wantGamma) {
		t.Fatalf("patch name only: %+v, want %+v", got, wantGamma)
	}
	bergen := apiPlace(60.39, 5.32, "Europe/Oslo")
	wantGamma.Location = bergen
	if got := patch("?update_mask=location", map[string]any{"displayName": "Not this", "location": bergen}); !apiSameProject(got, wantGamma) {
		t.Fatalf("update_mask=location: %+v, want %+v", got, wantGamma)
	}
	wantGamma.DisplayName = "Gamma 3"
	if got := patch("?updateMask=displayName", map[string]any{"displayName": "Gamma 3", "location": oslo}); !apiSameProject(got, wantGamma) {
		t.Fatalf("updateMask=displayName: %+v, want %+v", got, wantGamma)
	}
	wantGamma.DisplayName, wantGamma.Location = "Gamma 4", oslo
	if got := patch("?update_mask=displayName,location", map[string]any{"displayName": "Gamma 4", "location": oslo}); !apiSameProject(got, wantGamma) {
		t.Fatalf("update_mask of two fields: %+v, want %+v", got, wantGamma)
	}
	wantGamma.DisplayName = "Gamma 5"
	readOnly := map[string]any{"name": "projects/zzzzzzzzzzzzzzzzzzzz", "organization": "organizations/" + partner.ID,
		"organizationDisplayName": "Other", "sensorCount": 5, "cloudConnectorCount": 7, "inventory": true, "displayName": "Gamma 5"}
	if got := patch("", readOnly); !apiSameProject(got, wantGamma) {
		t.Fatalf("read-only fields were not ignored: %+v, want %+v", got, wantGamma)
	}
	if got := patch("", map[string]any{}); !apiSameProject(got, wantGamma) {
		t.Fatalf("empty patch changed the project: %+v", got)
	}
	before = e.snapshot()
	for _, tc := range []struct {
		query string
		body  any
	}{
		{"", map[string]any{"colour": "red"}},
		{"", map[string]any{"displayName": 5}},
		{"", map[string]any{"displayName": "Ok", "location": map[string]any{"latitude": "north"}}},
		{"", map[string]any{"displayName": "Ok", "location": map[string]any{"altitude": 3}}},
		{"", map[string]any{"displayName": ""}},
		{"", map[string]any{"location": map[string]any{"longitude": 181}}},
		{"?update_mask=bogus", map[string]any{"displayName": "Ok"}},
		{"?update_mask=sensorCount", map[string]any{"sensorCount": 1}},
		{"", `{"displayName": "Broken"`},
		{"", `{"displayName": "One"} {"displayName": "Two"}`},
		{"", `["displayName"]`},
	} {
		r := e.call(http.MethodPatch, gamma+tc.query, auth, tc.body)
		if r.status != http.StatusBadRequest {
			t.Errorf("PATCH %s %v: %s, want 400", tc.query, tc.body, r)
			continue
		}
		apiDecodeError(t, r, http.StatusBadRequest)
	}
	apiDecodeError(t, e.call(http.MethodPatch, "/v2/projects/"+pPlant.ID, auth, map[string]any{"displayName": "Mine"}), http.StatusForbidden)
	if after := e.snapshot(); after != before {
		t.Fatalf("a refused update changed the store: %s", apiDiff(before, after))
	}

	// Delete: not the inventory, not a project that owns service accounts.
	before = e.snapshot()
	apiDecodeError(t, e.call(http.MethodDelete, "/v2/projects/"+inv.ID, auth, nil), http.StatusBadRequest)
	if after := e.snapshot(); after != before {
		t.Fatalf("deleting the inventory project changed the store: %s", apiDiff(before, after))
	}
	e.account(e.admin, alpha, "Tenant", false)
	before = e.snapshot()
	apiDecodeError(t, e.call(http.MethodDelete, "/v2/projects/"+alpha.ID, auth, nil), http.StatusBadRequest)
	apiDecodeError(t, e.call(http.MethodDelete, "/v2/projects/"+pPlant.ID, auth, nil), http.StatusForbidden)
	apiDecodeError(t, e.call(http.MethodDelete, "/v2/projects/zzzzzzzzzzzzzzzzzzzz", auth, nil), http.StatusNotFound)
	if after := e.snapshot(); after != before {
		t.Fatalf("a refused delete changed the store")
	}
	apiEmpty(t, e.call(http.MethodDelete, gamma, auth, nil))
	apiEmpty(t, e.call(http.MethodDelete, "/v2/projects/"+beta.ID, auth, nil))
	apiDecodeError(t, e.call(http.MethodGet, gamma, auth, nil), http.StatusNotFound)
	if _, err := app.store.ProjectByID(context.Background(), beta.ID); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("deleted project still stored: %v", err)
	}
}

// TestAPIProjectMemberEndpoints covers project members, the cross-project
// listing and the batch calls.
func TestAPIProjectMemberEndpoints(t *testing.T) {
	for _, scheme := range apiSchemes {
		t.Run(scheme, func(t *testing.T) { apiProjectMemberFlow(t, scheme) })
	}
}

func apiProjectMemberFlow(t *testing.T, scheme string) {
	e := apiNewEnv(t)
	app := e.app
	inv := app.inventory()
	robot := e.caller(e.admin, inv, "Robot")
	e.grant(robot.SA.Ref(), app.org.ID, "", domain.RoleOrgAdmin)
	auth := e.auth(robot, scheme)
	plant := app.addProject(app.org.ID, "Plant")
	lab := app.addProject(app.org.ID, "Lab")
	partner, partnerAdmin := app.addOrg("Partner", "partner@example.com")
	partnerProject := app.addProject(partner.ID, "Partner plant")
	partnerSA := e.account(domain.UserPrincipal(partnerAdmin, "test"), partnerProject, "Partner bot", false)
	dana := app.addUser("dana@example.com", "", "", "")
	e.setUserName(dana, "Dana")
	danaID := itoa(dana.ID)
	members := "/v2/projects/" + plant.ID + "/members"
	role := func(r string) []string { return []string{"roles/project." + r} }

	// Create.
	added := apiDecodeMember(t, apiOK(t, e.call(http.MethodPost, members, auth, map[string]any{"roles": role("developer"), "email": "Dana@Example.com"})))
	want := apiMember{Name: "projects/" + plant.ID + "/members/" + danaID, DisplayName: "Dana", Roles: role("developer"),
		Status: "ACCEPTED", Email: "dana@example.com", AccountType: "USER", CreateTime: added.CreateTime}
	if !apiSameMember(added, want) {
		t.Fatalf("existing user added: %+v, want %+v", added, want)
	}
	sam := apiDecodeMember(t, apiOK(t, e.call(http.MethodPost, members, auth, map[string]any{"roles": role("user"), "email": partnerSA.Email})))
	if sam.Name != "projects/"+plant.ID+"/members/"+partnerSA.ID || sam.Status != "ACCEPTED" || sam.AccountType != "SERVICE_ACCOUNT" ||
		sam.DisplayName != "Partner bot" || !slices.Equal(sam.Roles, role("user")) {
		t.Fatalf("service account of another organization added: %+v", sam)
	}
	erin := apiDecodeMember(t, apiOK(t, e.call(http.MethodPost, members, auth, map[string]any{"roles": role("admin"), "email": "erin@example.com"})))
	if erin.Status != "PENDING" || erin.DisplayName != "erin@example.com" || erin.AccountType != "USER" || !slices.Equal(erin.Roles, role("admin")) {
		t.Fatalf("unknown email added: %+v", erin)
	}
	erinID := apiLastSegment(erin.Name)
	before := e.snapshot()
	apiDecodeError(t, e.call(http.MethodPost, members, auth, map[string]any{"roles": role("user"), "email": "dana@example.com"}), http.StatusConflict)
	apiDecodeError(t, e.call(http.MethodPost, members, auth, map[string]any{"roles": role("user"), "email": "ERIN@example.com"}), http.StatusConflict)
	for _, body := range []any{
		map[string]any{"roles": []string{"roles/organization.admin"}, "email": "x1@example.com"},
		map[string]any{"roles": []string{}, "email": "x2@example.com"},
		map[string]any{"roles": append(role("user"), "roles/project.admin"), "email": "x3@example.com"},
		map[string]any{"roles": []string{"roles/bogus"}, "email": "x4@example.com"},
		map[string]any{"roles": []string{"project.user"}, "email": "x5@example.com"},
		map[string]any{"roles": role("user")},
		map[string]any{"roles": role("user"), "email": "@example.com"},
		map[string]any{"roles": role("user"), "email": 42},
		map[string]any{"roles": role("user"), "email": "x6@example.com", "extra": true},
	} {
		r := e.call(http.MethodPost, members, auth, body)
		if r.status != http.StatusBadRequest {
			t.Errorf("POST members %v: %s, want 400", body, r)
			continue
		}
		apiDecodeError(t, r, http.StatusBadRequest)
	}
	if after := e.snapshot(); after != before {
		t.Fatalf("a refused member create changed the store: %s", apiDiff(before, after))
	}

	// List and get.
	listed := apiWalk(t, app, auth, members, "members")
	if got := apiNames(t, listed); !apiSameSet(got, []string{added.Name, sam.Name, erin.Name}) {
		t.Fatalf("members %v", got)
	}
	for _, it := range listed {
		apiDecodeMember(t, it)
	}
	if got := apiDecodeMember(t, apiOK(t, e.call(http.MethodGet, members+"/"+danaID, auth, nil))); !apiSameMember(got, added) {
		t.Fatalf("get member = %+v, want %+v", got, added)
	}
	if got := apiDecodeMember(t, apiOK(t, e.call(http.MethodGet, members+"/"+partnerSA.ID, auth, nil))); !apiSameMember(got, sam) {
		t.Fatalf("get service account member = %+v, want %+v", got, sam)
	}
	apiDecodeError(t, e.call(http.MethodGet, members+"/999999", auth, nil), http.StatusNotFound)
	apiDecodeError(t, e.call(http.MethodGet, members+"/"+robot.SA.ID, auth, nil), http.StatusNotFound)

	// Patch the role; read-only fields are ignored.
	got := apiDecodeMember(t, apiOK(t, e.call(http.MethodPatch, members+"/"+danaID, auth, map[string]any{"roles": role("admin")})))
	want.Roles = role("admin")
	if !apiSameMember(got, want) {
		t.Fatalf("patched %+v, want %+v", got, want)
	}
	got = apiDecodeMember(t, apiOK(t, e.call(http.MethodPatch, members+"/"+danaID+"?update_mask=roles", auth, map[string]any{
		"roles": role("user"), "email": "someone@else.com", "status": "PENDING", "displayName": "X", "accountType": "SERVICE_ACCOUNT",
		"name": "projects/x/members/1", "createTime": "2001-01-01T00:00:00.000000Z"})))
	want.Roles = role("user")
	if !apiSameMember(got, want) {
		t.Fatalf("patch with read-only fields: %+v, want %+v", got, want)
	}
	if got := apiDecodeMember(t, apiOK(t, e.call(http.MethodGet, members+"/"+danaID, auth, nil))); !apiSameMember(got, want) {
		t.Fatalf("stored after patch: %+v, want %+v", got, want)
	}
	before = e.snapshot()
	for _, body := range []any{
		map[string]any{"roles": []string{"roles/organization.admin"}},
		map[string]any{"roles": []string{}},
		map[string]any{},
		map[string]any{"roles": "roles/project.admin"},
		map[string]any{"roles": role("admin"), "colour": "red"},
	} {
		r := e.call(http.MethodPatch, members+"/"+danaID, auth, body)
		if r.status != http.StatusBadRequest {
			t.Errorf("PATCH member %v: %s, want 400", body, r)
			continue
		}
		apiDecodeError(t, r, http.StatusBadRequest)
	}
	apiDecodeError(t, e.call(http.MethodPatch, members+"/999999", auth, map[string]any{"roles": role("admin")}), http.StatusNotFound)
	if after := e.snapshot(); after != before {
		t.Fatalf("a refused member update changed the store")
	}

	// Invite links: only for a pending user.
	var link struct {
		InviteURL string `json:"inviteUrl"`
	}
	apiStrict(t, apiOK(t, e.call(http.MethodGet, members+"/"+erinID+":getInviteUrl", auth, nil)), &link, "inviteUrl")
	if !strings.HasPrefix(link.InviteURL, "http://studio.test/invite/") {
		t.Fatalf("inviteUrl %q", link.InviteURL)
	}
	apiDecodeError(t, e.call(http.MethodGet, members+"/"+danaID+":getInviteUrl", auth, nil), http.StatusBadRequest)
	apiDecodeError(t, e.call(http.MethodGet, members+"/"+partnerSA.ID+":getInviteUrl", auth, nil), http.StatusBadRequest)
	apiDecodeError(t, e.call(http.MethodGet, members+"/999999:getInviteUrl", auth, nil), http.StatusNotFound)

	// One member across the organization's projects.
	apiOK(t, e.call(http.MethodPost, "/v2/projects/"+lab.ID+"/members", auth, map[string]any{"roles": role("developer"), "email": "dana@example.com"}))
	across := apiWalk(t, app, auth, "/v2/projects/-/members?organization=organizations/"+app.org.ID+"&memberId="+danaID, "members")
	if got := apiNames(t, across); !apiSameSet(got, []string{"projects/" + plant.ID + "/members/" + danaID, "projects/" + lab.ID + "/members/" + danaID}) {
		t.Fatalf("dana's memberships: %v", got)
	}
	across = apiWalk(t, app, auth, "/v2/projects/-/members?organization=organizations/"+app.org.ID+"&memberId="+partnerSA.ID, "members")
	if got := apiNames(t, across); !slices.Equal(got, []string{sam.Name}) {
		t.Fatalf("service account's memberships: %v", got)
	}
	apiDecodeError(t, e.call(http.MethodGet, "/v2/projects/-/members?memberId="+danaID, auth, nil), http.StatusBadRequest)
	apiDecodeError(t, e.call(http.MethodGet, "/v2/projects/-/members?organization=organizations/"+app.org.ID, auth, nil), http.StatusBadRequest)
	apiDecodeError(t, e.call(http.MethodGet, "/v2/projects/-/members?organization=organizations/"+partner.ID+"&memberId="+danaID, auth, nil), http.StatusNotFound)

	// Delete: the account stays, and so do its other memberships.
	apiEmpty(t, e.call(http.MethodDelete, members+"/"+danaID, auth, nil))
	apiDecodeError(t, e.call(http.MethodGet, members+"/"+danaID, auth, nil), http.StatusNotFound)
	apiDecodeError(t, e.call(http.MethodDelete, members+"/"+danaID, auth, nil), http.StatusNotFound)
	if _, err := app.store.UserByEmail(context.Background(), "dana@example.com"); err != nil {
		t.Fatalf("user deleted with the membership: %v", err)
	}
	apiOK(t, e.call(http.MethodGet, "/v2/projects/"+lab.ID+"/members/"+danaID, auth, nil))
	apiEmpty(t, e.call(http.MethodDelete, members+"/"+partnerSA.ID, auth, nil))
	if _, err := app.store.ServiceAccountByID(context.Background(), partnerSA.ID); err != nil {
		t.Fatalf("service account deleted with the membership: %v", err)
	}

	// Batch create and delete.
	batch := apiObject(t, apiOK(t, e.call(http.MethodPost, "/v2/projects/-/members:batchCreate", auth, map[string]any{
		"members": []map[string]any{
			{"project": "projects/" + plant.ID, "email": "frank@example.com", "roles": role("user")},
			{"project": "projects/" + lab.ID, "email": partnerSA.Email, "roles": role("admin")},
		}})), "members")
	var batchItems []json.RawMessage
	if err := json.Unmarshal(batch["members"], &batchItems); err != nil || len(batchItems) != 2 {
		t.Fatalf("batchCreate members: %s", batch["members"])
	}
	frank := apiDecodeMember(t, batchItems[0])
	labSA := apiDecodeMember(t, batchItems[1])
	if frank.Email != "frank@example.com" || frank.Status != "PENDING" || !strings.HasPrefix(frank.Name, "projects/"+plant.ID+"/members/") ||
		labSA.Name != "projects/"+lab.ID+"/members/"+partnerSA.ID || !slices.Equal(labSA.Roles, role("admin")) {
		t.Fatalf("batchCreate made %+v and %+v", frank, labSA)
	}
	apiOK(t, e.call(http.MethodGet, "/"+strings.Replace(frank.Name, "projects/", "v2/projects/", 1), auth, nil))
	before = e.snapshot()
	for _, body := range []any{
		map[string]any{"members": []map[string]any{{"project": "projects/" + plant.ID, "email": "g@example.com", "roles": role("user")},
			{"project": "projects/" + lab.ID, "email": "h@example.com", "roles": []string{"roles/organization.admin"}}}},
		map[string]any{"members": []map[string]any{{"project": "projects/" + plant.ID, "email": "not-an-email", "roles": role("user")}}},
		map[string]any{"members": []map[string]any{}},
		map[string]any{"members": []map[string]any{{"project": "projects/" + plant.ID, "email": "g@example.com", "roles": role("user"), "extra": 1}}},
	} {
		r := e.call(http.MethodPost, "/v2/projects/-/members:batchCreate", auth, body)
		if r.status != http.StatusBadRequest {
			t.Errorf("batchCreate %v: %s, want 400", body, r)
			continue
		}
		apiDecodeError(t, r, http.StatusBadRequest)
	}
	apiDecodeError(t, e.call(http.MethodPost, "/v2/projects/-/members:batchCreate", auth, map[string]any{
		"members": []map[string]any{{"project": "projects/" + plant.ID, "email": "g@example.com", "roles": role("user")},
			{"project": "projects/" + partnerProject.ID, "email": "h@example.com", "roles": role("user")}}}), http.StatusNotFound)
	if after := e.snapshot(); after != before {
		t.Fatalf("a refused batchCreate changed the store: %s", apiDiff(before, after))
	}
	for _, body := range []any{
		map[string]any{"names": []string{"projects/" + plant.ID + "/bogus/1"}},
		map[string]any{"names": []string{}},
		map[string]any{"names": "projects/" + plant.ID + "/members/1"},
	} {
		apiDecodeError(t, e.call(http.MethodPost, "/v2/projects/-/members:batchDelete", auth, body), http.StatusBadRequest)
	}
	apiDecodeError(t, e.call(http.MethodPost, "/v2/projects/-/members:batchDelete", auth,
		map[string]any{"names": []string{frank.Name, "projects/" + plant.ID + "/members/999999"}}), http.StatusNotFound)
	if after := e.snapshot(); after != before {
		t.Fatalf("a refused batchDelete changed the store")
	}
	apiEmpty(t, e.call(http.MethodPost, "/v2/projects/-/members:batchDelete", auth, map[string]any{"names": []string{frank.Name, labSA.Name}}))
	for _, name := range []string{frank.Name, labSA.Name} {
		apiDecodeError(t, e.call(http.MethodGet, "/v2/"+name, auth, nil), http.StatusNotFound)
	}
}

// TestAPIServiceAccountEndpoints covers service accounts and their keys.
func TestAPIServiceAccountEndpoints(t *testing.T) {
	for _, scheme := range apiSchemes {
		t.Run(scheme, func(t *testing.T) { apiServiceAccountFlow(t, scheme) })
	}
}

func apiServiceAccountFlow(t *testing.T, scheme string) {
	e := apiNewEnv(t)
	app := e.app
	inv := app.inventory()
	robot := e.caller(e.admin, inv, "Robot")
	e.grant(robot.SA.Ref(), app.org.ID, "", domain.RoleOrgAdmin)
	auth := e.auth(robot, scheme)
	plant := app.addProject(app.org.ID, "Plant")
	other := app.addProject(app.org.ID, "Other")
	list := "/v2/projects/" + plant.ID + "/serviceaccounts"

	if items, next := apiList(t, e.call(http.MethodGet, list, auth, nil), "serviceAccounts"); len(items) != 0 || next != "" {
		t.Fatalf("empty project lists %d accounts", len(items))
	}
	// Create, with no body, an empty object, or fields.
	now := app.clock.Now()
	first := apiDecodeServiceAccount(t, apiOK(t, e.call(http.MethodPost, list, auth, nil)))
	if !strings.HasPrefix(first.Name, list[len("/v2/"):]+"/") || first.EnableBasicAuth || first.DisplayName == "" ||
		first.CreateTime != first.UpdateTime || first.CreateTime != now.UTC().Format("2006-01-02T15:04:05.000000Z") {
		t.Fatalf("created without a body: %+v (now %s)", first, now)
	}
	apiDecodeServiceAccount(t, apiOK(t, e.call(http.MethodPost, list, auth, "{}")))
	exporter := apiDecodeServiceAccount(t, apiOK(t, e.call(http.MethodPost, list, auth, map[string]any{"displayName": "Exporter", "enableBasicAuth": true})))
	if exporter.DisplayName != "Exporter" || !exporter.EnableBasicAuth {
		t.Fatalf("created %+v", exporter)
	}
	saID := apiLastSegment(exporter.Name)
	sa := "/v2/" + exporter.Name
	if got := apiDecodeServiceAccount(t, apiOK(t, e.call(http.MethodGet, sa, auth, nil))); got != exporter {
		t.Fatalf("get = %+v, want %+v", got, exporter)
	}
	if names := apiNames(t, apiWalk(t, app, auth, list, "serviceAccounts")); len(names) != 3 || !slices.Contains(names, exporter.Name) {
		t.Fatalf("list %v", names)
	}
	// The account is not found through another project, even by an admin of both.
	apiDecodeError(t, e.call(http.MethodGet, "/v2/projects/"+other.ID+"/serviceaccounts/"+saID, auth, nil), http.StatusNotFound)
	apiDecodeError(t, e.call(http.MethodGet, list+"/zzzzzzzzzzzzzzzzzzzz", auth, nil), http.StatusNotFound)
	before := e.snapshot()
	for _, body := range []any{
		map[string]any{"displayName": 3},
		map[string]any{"enableBasicAuth": "yes"},
		map[string]any{"displayName": "X", "colour": "red"},
		map[string]any{"displayName": "   "},
		`{"displayName": "X"`,
		`[]`,
	} {
		r := e.call(http.MethodPost, list, auth, body)
		if r.status != http.StatusBadRequest {
			t.Errorf("POST serviceaccounts %v: %s, want 400", body, r)
			continue
		}
		apiDecodeError(t, r, http.StatusBadRequest)
	}
	if after := e.snapshot(); after != before {
		t.Fatalf("a refused create changed the store")
	}

	// Patch.
	app.clock.Advance(time.Second)
	renamed := apiDecodeServiceAccount(t, apiOK(t, e.call(http.MethodPatch, sa, auth, map[string]any{"displayName": "Exporter 2"})))
	want := exporter
	want.DisplayName, want.UpdateTime = "Exporter 2", app.clock.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	if renamed != want {
		t.Fatalf("renamed %+v, want %+v", renamed, want)
	}
	app.clock.Advance(time.Second)
	got := apiDecodeServiceAccount(t, apiOK(t, e.call(http.MethodPatch, sa+"?update_mask=enableBasicAuth", auth,
		map[string]any{"enableBasicAuth": false, "displayName": "Not this"})))
	want.EnableBasicAuth, want.UpdateTime = false, app.clock.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	if got != want {
		t.Fatalf("update_mask=enableBasicAuth: %+v, want %+v", got, want)
	}
	got = apiDecodeServiceAccount(t, apiOK(t, e.call(http.MethodPatch, sa+"?updateMask=displayName", auth,
		map[string]any{"displayName": "Exporter 3", "enableBasicAuth": true, "email": "me@example.com", "name": "projects/x/serviceaccounts/y",
			"createTime": "2001-01-01T00:00:00.000000Z", "updateTime": "2001-01-01T00:00:00.000000Z"})))
	want.DisplayName, want.UpdateTime = "Exporter 3", got.UpdateTime
	if got != want {
		t.Fatalf("updateMask=displayName with read-only fields: %+v, want %+v", got, want)
	}
	if stored := apiDecodeServiceAccount(t, apiOK(t, e.call(http.MethodGet, sa, auth, nil))); stored != want {
		t.Fatalf("stored %+v, want %+v", stored, want)
	}
	before = e.snapshot()
	for _, tc := range []struct {
		query string
		body  any
	}{
		{"", map[string]any{"enableBasicAuth": "yes"}},
		{"", map[string]any{"displayName": false}},
		{"", map[string]any{"colour": "red"}},
		{"", map[string]any{"displayName": ""}},
		{"?update_mask=email", map[string]any{"email": "x@example.com"}},
		{"", `{} {}`},
	} {
		r := e.call(http.MethodPatch, sa+tc.query, auth, tc.body)
		if r.status != http.StatusBadRequest {
			t.Errorf("PATCH %s %v: %s, want 400", tc.query, tc.body, r)
			continue
		}
		apiDecodeError(t, r, http.StatusBadRequest)
	}
	apiDecodeError(t, e.call(http.MethodPatch, "/v2/projects/"+other.ID+"/serviceaccounts/"+saID, auth, map[string]any{"displayName": "X"}), http.StatusNotFound)
	if after := e.snapshot(); after != before {
		t.Fatalf("a refused update changed the store")
	}

	// Keys.
	keys := sa + "/keys"
	if items, next := apiList(t, e.call(http.MethodGet, keys, auth, nil), "keys"); len(items) != 0 || next != "" {
		t.Fatalf("new account has keys: %d", len(items))
	}
	var createdKeys []apiKey
	var firstSecret string
	for i := 0; i < domain.MaxKeysPerAccount; i++ {
		var body any
		if i == 1 {
			body = "{}"
		}
		r := e.call(http.MethodPost, keys, auth, body)
		m := apiObject(t, apiOK(t, r), "key", "secret")
		k := apiDecodeKey(t, m["key"])
		var secret string
		if err := json.Unmarshal(m["secret"], &secret); err != nil || !apiSecretPattern.MatchString(secret) {
			t.Fatalf("secret %s is not 32 lowercase hex characters", m["secret"])
		}
		if !strings.HasPrefix(k.Name, exporter.Name+"/keys/") {
			t.Fatalf("key name %q", k.Name)
		}
		if i == 0 {
			firstSecret = secret
		}
		createdKeys = append(createdKeys, k)
	}
	before = e.snapshot()
	apiDecodeError(t, e.call(http.MethodPost, keys, auth, nil), http.StatusBadRequest)
	apiDecodeError(t, e.call(http.MethodPost, keys, auth, map[string]any{"name": "x"}), http.StatusBadRequest)
	if after := e.snapshot(); after != before {
		t.Fatalf("the 11th key changed the store")
	}
	if n, _ := app.store.CountKeys(context.Background(), saID); n != domain.MaxKeysPerAccount {
		t.Fatalf("%d keys stored", n)
	}
	walked := apiWalk(t, app, auth, keys, "keys")
	var walkedKeys []apiKey
	for _, it := range walked {
		walkedKeys = append(walkedKeys, apiDecodeKey(t, it))
	}
	if len(walkedKeys) != len(createdKeys) {
		t.Fatalf("listed %d keys, made %d", len(walkedKeys), len(createdKeys))
	}
	for _, k := range createdKeys {
		if !slices.Contains(walkedKeys, k) {
			t.Errorf("key %+v not listed as created", k)
		}
		if strings.Contains(string(apiOK(t, e.call(http.MethodGet, keys+"/"+k.ID, auth, nil))), firstSecret) {
			t.Fatal("a key read returns the secret")
		}
	}
	k0 := createdKeys[0]
	if got := apiDecodeKey(t, apiOK(t, e.call(http.MethodGet, keys+"/"+k0.ID, auth, nil))); got != k0 {
		t.Fatalf("get key = %+v, want %+v", got, k0)
	}
	// The new key works at once; the account has no role yet, so it sees nothing.
	if got := apiDecodeServiceAccount(t, apiOK(t, e.call(http.MethodPatch, sa, auth, map[string]any{"enableBasicAuth": true}))); !got.EnableBasicAuth {
		t.Fatalf("Basic Auth not switched on: %+v", got)
	}
	newAuth := apiBasic(k0.ID, firstSecret)
	if items, _ := apiList(t, e.call(http.MethodGet, "/v2/projects", newAuth, nil), "projects"); len(items) != 0 {
		t.Fatalf("a new account sees %d projects", len(items))
	}
	apiDecodeError(t, e.call(http.MethodGet, "/v2/projects/"+plant.ID, newAuth, nil), http.StatusNotFound)

	// A key through another account is not found.
	firstKeys := "/v2/" + first.Name + "/keys/" + k0.ID
	apiDecodeError(t, e.call(http.MethodGet, firstKeys, auth, nil), http.StatusNotFound)
	apiDecodeError(t, e.call(http.MethodDelete, firstKeys, auth, nil), http.StatusNotFound)
	apiDecodeError(t, e.call(http.MethodGet, keys+"/zzzzzzzzzzzzzzzzzzzz", auth, nil), http.StatusNotFound)

	apiEmpty(t, e.call(http.MethodDelete, keys+"/"+k0.ID, auth, nil))
	apiDecodeError(t, e.call(http.MethodGet, keys+"/"+k0.ID, auth, nil), http.StatusNotFound)
	apiDecodeError(t, e.call(http.MethodGet, "/v2/projects", newAuth, nil), http.StatusUnauthorized)
	apiOK(t, e.call(http.MethodPost, keys, auth, nil)) // room for one again

	// Delete the account: its keys and memberships go with it.
	e.grant(domain.AccountRef{Type: domain.AccountServiceAccount, ID: saID}, app.org.ID, other.ID, domain.RoleProjectUser)
	apiEmpty(t, e.call(http.MethodDelete, sa, auth, nil))
	apiDecodeError(t, e.call(http.MethodGet, sa, auth, nil), http.StatusNotFound)
	apiDecodeError(t, e.call(http.MethodGet, keys, auth, nil), http.StatusNotFound)
	apiDecodeError(t, e.call(http.MethodDelete, sa, auth, nil), http.StatusNotFound)
	if n := app.keyCount(saID); n != 0 {
		t.Fatalf("%d keys left", n)
	}
	if ms := app.memberships(domain.AccountRef{Type: domain.AccountServiceAccount, ID: saID}); len(ms) != 0 {
		t.Fatalf("%d memberships left", len(ms))
	}
}

// TestAPIRoles checks the roles, word for word as the contract has them.
func TestAPIRoles(t *testing.T) {
	e := apiNewEnv(t)
	inv := e.app.inventory()
	// Any authenticated caller may read roles, even one without any access.
	nobody := e.caller(e.admin, inv, "Nobody")
	want := []apiRole{
		{"roles/project.user", "Project user", "Users cannot change anything, just view the data in the Project", apiUserPerms},
		{"roles/project.developer", "Project developer", "Allows editing devices and Project settings", apiDeveloperPerms},
		{"roles/project.admin", "Project admin", "Can move devices between projects inside the organization. Can add and remove users in the project.", apiAdminPerms},
		{"roles/organization.admin", "Organization admin", "Can create new Projects and have Project administrator access in all Projects of the Organization.", apiOrgAdminPerms},
	}
	for _, scheme := range apiSchemes {
		auth := e.auth(nobody, scheme)
		items := apiWalk(t, e.app, auth, "/v2/roles", "roles")
		if len(items) != len(want) {
			t.Fatalf("%d roles, want %d", len(items), len(want))
		}
		got := map[string]apiRole{}
		for _, it := range items {
			r := apiDecodeRole(t, it)
			got[r.Name] = r
		}
		for _, w := range want {
			for _, r := range []apiRole{got[w.Name], apiDecodeRole(t, apiOK(t, e.call(http.MethodGet, "/v2/"+w.Name, auth, nil)))} {
				if r.Name != w.Name || r.DisplayName != w.DisplayName || r.Description != w.Description || !apiSameSet(r.Permissions, w.Permissions) {
					t.Errorf("role %+v, want %+v", r, w)
				}
				if len(r.Permissions) != len(w.Permissions) {
					t.Errorf("role %s lists %d permissions, want %d", w.Name, len(r.Permissions), len(w.Permissions))
				}
			}
		}
		for _, path := range []string{"/v2/roles/bogus", "/v2/roles/organization.user", "/v2/roles/roles"} {
			apiDecodeError(t, e.call(http.MethodGet, path, auth, nil), http.StatusNotFound)
		}
	}
}

// TestAPIRequestBodies: malformed JSON, two values, bodies over 64 KiB and
// non-objects are 400 with the error body on every endpoint with a body,
// and change nothing.
func TestAPIRequestBodies(t *testing.T) {
	e := apiNewEnv(t)
	app := e.app
	inv := app.inventory()
	robot := e.caller(e.admin, inv, "Robot")
	e.grant(robot.SA.Ref(), app.org.ID, "", domain.RoleOrgAdmin)
	auth := e.auth(robot, "basic")
	plant := app.addProject(app.org.ID, "Plant")
	user := app.addUser("user@example.com", plant.ID, domain.RoleProjectUser, "")
	sa := e.account(e.admin, plant, "Target", false)
	pad := strings.Repeat("a", 64<<10)
	bodies := map[string]string{
		"malformed":       `{"displayName": "x"`,
		"not JSON":        `displayName=x`,
		"two values":      `{"displayName": "x"} {"displayName": "y"}`,
		"trailing text":   `{"displayName": "x"} trailing`,
		"array":           `[{"displayName": "x"}]`,
		"string":          `"x"`,
		"over 64 KiB":     `{"displayName": "` + pad + `"}`,
		"over 64 KiB pad": `{"displayName": "x"}` + strings.Repeat(" ", 64<<10),
		"over 1 MiB":      `{"displayName": "` + strings.Repeat(pad, 17) + `"}`,
	}
	// Exactly 64 KiB is allowed.
	exact := `{"displayName": "Exactly 64 KiB"}`
	exact += strings.Repeat(" ", 64<<10-len(exact))
	if got := apiDecodeServiceAccount(t, apiOK(t, e.call(http.MethodPatch, "/v2/projects/"+plant.ID+"/serviceaccounts/"+sa.ID, auth, exact))); got.DisplayName != "Exactly 64 KiB" {
		t.Fatalf("64 KiB body: %+v", got)
	}
	endpoints := []struct{ method, path string }{
		{http.MethodPost, "/v2/projects"},
		{http.MethodPatch, "/v2/projects/" + plant.ID},
		{http.MethodPost, "/v2/organizations/" + app.org.ID + "/members"},
		{http.MethodPost, "/v2/projects/" + plant.ID + "/members"},
		{http.MethodPatch, "/v2/projects/" + plant.ID + "/members/" + itoa(user.ID)},
		{http.MethodPost, "/v2/projects/-/members:batchCreate"},
		{http.MethodPost, "/v2/projects/-/members:batchDelete"},
		{http.MethodPost, "/v2/projects/" + plant.ID + "/serviceaccounts"},
		{http.MethodPatch, "/v2/projects/" + plant.ID + "/serviceaccounts/" + sa.ID},
		{http.MethodPost, "/v2/projects/" + plant.ID + "/serviceaccounts/" + sa.ID + "/keys"},
	}
	before := e.snapshot()
	for _, ep := range endpoints {
		for what, body := range bodies {
			r := e.call(ep.method, ep.path, auth, body)
			if r.status != http.StatusBadRequest {
				t.Errorf("%s %s with a body %s: status %d, want 400: %.200s", ep.method, ep.path, what, r.status, r.body)
				continue
			}
			apiDecodeError(t, r, http.StatusBadRequest)
		}
	}
	if after := e.snapshot(); after != before {
		t.Fatalf("a refused body changed the store: %s", apiDiff(before, after))
	}
}

// TestAPIUnknownPath: unknown /v2 paths are 404 with the error body.
func TestAPIUnknownPath(t *testing.T) {
	e := apiNewEnv(t)
	inv := e.app.inventory()
	robot := e.caller(e.admin, inv, "Robot")
	e.grant(robot.SA.Ref(), e.app.org.ID, "", domain.RoleOrgAdmin)
	for _, scheme := range apiSchemes {
		auth := e.auth(robot, scheme)
		for _, path := range []string{"/v2/nothing", "/v2/projects/" + inv.ID + "/gadgets", "/v2/organizations/" + e.app.org.ID + "/projects/x",
			"/v2/projects/" + inv.ID + "/serviceaccounts/" + robot.SA.ID + "/keys/" + robot.KeyID + "/more"} {
			apiDecodeError(t, e.call(http.MethodGet, path, auth, nil), http.StatusNotFound)
		}
	}
	// Without credentials, nothing is told.
	apiDecodeError(t, e.call(http.MethodGet, "/v2/nothing", "", nil), http.StatusUnauthorized)
}

// TestAPIBatchCreateIsAllOrNothing: a refused batch changes nothing, also
// when an item conflicts with an existing member or with another item.
func TestAPIBatchCreateIsAllOrNothing(t *testing.T) {
	e := apiNewEnv(t)
	app := e.app
	inv := app.inventory()
	robot := e.caller(e.admin, inv, "Robot")
	e.grant(robot.SA.Ref(), app.org.ID, "", domain.RoleOrgAdmin)
	auth := e.auth(robot, "basic")
	plant := app.addProject(app.org.ID, "Plant")
	lab := app.addProject(app.org.ID, "Lab")
	app.addUser("dana@example.com", lab.ID, domain.RoleProjectUser, "")
	user := []string{"roles/project.user"}
	for name, items := range map[string][]map[string]any{
		"existing member": {{"project": "projects/" + plant.ID, "email": "first@example.com", "roles": user},
			{"project": "projects/" + lab.ID, "email": "dana@example.com", "roles": user}},
		"same email twice": {{"project": "projects/" + plant.ID, "email": "twice@example.com", "roles": user},
			{"project": "projects/" + plant.ID, "email": "TWICE@example.com", "roles": user}},
	} {
		before := e.snapshot()
		r := e.call(http.MethodPost, "/v2/projects/-/members:batchCreate", auth, map[string]any{"members": items})
		if r.status != http.StatusConflict && r.status != http.StatusBadRequest {
			t.Errorf("%s: %s, want 409 (or 400)", name, r)
			continue
		}
		apiDecodeError(t, r, r.status)
		if after := e.snapshot(); after != before {
			t.Errorf("%s: the refused batch (%d) still made the items before the conflict: %s", name, r.status, apiDiff(before, after))
		}
	}
}
