package web_test

// Tests of the credential lifecycle (issue 8): disabled, expired,
// rotated-after-grace and compromised keys, and disabled accounts, are
// refused on every path (Basic Auth, token exchange, tokens issued before);
// a key in its grace period works; the organization's key lifetime policy
// holds in the console and the API; the purge; re-authentication. Helpers
// carry an lc prefix.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"studio/domain"
)

// apiActionRequest turns the sweep's request for a POST on a resource into
// one of its lifecycle methods ({sa}:disable, {k}:disable), on the
// disposable objects apiRequest made.
func (w *sweepWorld) apiActionRequest(route, path, body string) (string, string) {
	switch route {
	case "/v2/projects/:project/serviceaccounts/:sa", "/v2/projects/:project/serviceaccounts/:sa/keys/:key":
		return path + ":disable", ""
	case "/emulator/v2/projects/:project/devices/:device":
		return path + ":publish", `{"touch":{}}`
	}
	return path, body
}

// lcWorld is an app with a project user robot whose calls work until its
// credentials are refused.
type lcWorld struct {
	*apiEnv
	inv domain.Project
}

func lcNew(t *testing.T) *lcWorld {
	e := apiNewEnv(t)
	return &lcWorld{apiEnv: e, inv: e.app.inventory()}
}

// robot makes a service account with Basic Auth on, one key and the
// project user role in the inventory project.
func (w *lcWorld) robot(name string) apiCaller {
	w.t.Helper()
	c := w.caller(w.admin, w.inv, name)
	w.grant(c.SA.Ref(), w.app.org.ID, w.inv.ID, domain.RoleProjectUser)
	return c
}

func (w *lcWorld) projectPath() string { return "/v2/projects/" + w.inv.ID }

func lcKeyPath(c apiCaller) string {
	return "/v2/projects/" + c.SA.ProjectID + "/serviceaccounts/" + c.SA.ID + "/keys/" + c.KeyID
}

// works checks that Basic Auth, the token exchange and the given bearer token all work.
func (w *lcWorld) works(what string, c apiCaller, bearer string) {
	w.t.Helper()
	if r := w.call(http.MethodGet, w.projectPath(), apiBasic(c.KeyID, c.Secret), nil); r.status != http.StatusOK {
		w.t.Fatalf("%s: Basic Auth %s", what, r)
	}
	if r := w.exchange(w.grantForm(w.claims(c))); r.status != http.StatusOK {
		w.t.Fatalf("%s: token exchange %s", what, r)
	}
	if r := w.call(http.MethodGet, w.projectPath(), "Bearer "+bearer, nil); r.status != http.StatusOK {
		w.t.Fatalf("%s: bearer token issued before %s", what, r)
	}
}

// refused checks that Basic Auth, the token exchange and the bearer token
// issued before are all refused, saying why.
func (w *lcWorld) refused(what string, c apiCaller, bearer, why string) {
	w.t.Helper()
	w.refusedWith(what, c, bearer, why, why)
}

// refusedWith is refused with another reason for the bearer token.
func (w *lcWorld) refusedWith(what string, c apiCaller, bearer, why, bearerWhy string) {
	w.t.Helper()
	r := w.call(http.MethodGet, w.projectPath(), apiBasic(c.KeyID, c.Secret), nil)
	if e := apiDecodeError(w.t, r, http.StatusUnauthorized); !strings.Contains(e.Error, why) {
		w.t.Errorf("%s: Basic Auth refusal %q, want it to say %q", what, e.Error, why)
	}
	r = w.exchange(w.grantForm(w.claims(c)))
	w.wantOAuthError(r, "invalid_grant")
	if !strings.Contains(string(r.body), why) {
		w.t.Errorf("%s: exchange refusal %s, want it to say %q", what, r.body, why)
	}
	r = w.call(http.MethodGet, w.projectPath(), "Bearer "+bearer, nil)
	if e := apiDecodeError(w.t, r, http.StatusUnauthorized); !strings.Contains(strings.ToLower(e.Error), strings.ToLower(bearerWhy)) {
		w.t.Errorf("%s: refusal of the token issued before %q, want it to say %q", what, e.Error, bearerWhy)
	}
}

// tokenEnded is the refusal of a bearer token that a disable ended.
const tokenEnded = "The access token is not valid or has expired."

// endedForGood checks that the bearer token issued before a disable stays
// refused once the key or account is enabled again, while Basic Auth, the
// exchange and a token issued now work.
func (w *lcWorld) endedForGood(what string, c apiCaller, before string) {
	w.t.Helper()
	r := w.call(http.MethodGet, w.projectPath(), "Bearer "+before, nil)
	if e := apiDecodeError(w.t, r, http.StatusUnauthorized); e.Error != tokenEnded {
		w.t.Errorf("%s: the token issued before the disable is refused with %q", what, e.Error)
	}
	w.works(what, c, w.token(c))
}

// lcAdmin is the first organization's admin as an API caller (org admin service account).
func (w *lcWorld) adminCaller() apiCaller {
	w.t.Helper()
	c := w.caller(w.admin, w.inv, "Automation admin")
	w.grant(c.SA.Ref(), w.app.org.ID, "", domain.RoleOrgAdmin)
	return c
}

func (w *lcWorld) auditOf(action string) []domain.AuditEntry {
	w.t.Helper()
	entries, err := w.app.store.ListAudit(context.Background(), domain.AuditFilter{Action: action}, 0, 1000)
	if err != nil {
		w.t.Fatal(err)
	}
	return entries
}

func (w *lcWorld) storedKey(id string) domain.Key {
	w.t.Helper()
	k, err := w.app.store.KeyByID(context.Background(), id)
	if err != nil {
		w.t.Fatalf("key %s: %v", id, err)
	}
	return k
}

func TestLifecycleDisabledKeyRefusedEverywhereAndEnableRestores(t *testing.T) {
	w := lcNew(t)
	robot := w.robot("Robot")
	other := w.robot("Other robot")
	token, otherToken := w.token(robot), w.token(other)
	w.works("before", robot, token)

	c := w.app.signedIn(adminEmail)
	c.get(saPath(robot.SA))
	keyPage := saPath(robot.SA) + "/keys/" + robot.KeyID
	if r := c.post(keyPage+"/disable", url.Values{}); r.status != http.StatusBadRequest {
		t.Fatalf("disable without confirmation: status %d", r.status)
	}
	if r := c.post(keyPage+"/disable", url.Values{"confirm": {"yes"}}); r.status != http.StatusSeeOther {
		t.Fatalf("disable: status %d", r.status)
	}
	w.refusedWith("disabled key", robot, token, "This key is disabled", tokenEnded)
	w.works("another account's key", other, otherToken)
	page := c.get(saPath(robot.SA))
	row := page.doc.Find("[data-testid=key-row][data-key-id=" + robot.KeyID + "]")
	if row.AttrOr("data-state", "") != "DISABLED" || !strings.Contains(row.Find("[data-testid=key-state]").Text(), "disabled") ||
		row.Find("[data-testid=enable-key]").Length() != 1 {
		t.Fatalf("key row after disabling: %q", row.Text())
	}

	// Enabling restores every path but the token issued before the disable.
	r := c.htmxPost(keyPage+"/enable", url.Values{"confirm": {"yes"}})
	if r.status != http.StatusOK || r.doc.Find("[data-testid=key-row][data-state=ACTIVE]").Length() != 1 {
		t.Fatalf("enable (htmx): status %d body %s", r.status, r.body)
	}
	w.endedForGood("enabled again", robot, token)
	if got := w.auditOf(domain.ActionKeyDisable); len(got) != 1 || got[0].TargetID != robot.KeyID || got[0].ActorEmail != adminEmail {
		t.Fatalf("disable audit entries %+v", got)
	}
	if got := w.auditOf(domain.ActionKeyEnable); len(got) != 1 || got[0].TargetID != robot.KeyID {
		t.Fatalf("enable audit entries %+v", got)
	}
}

func TestLifecycleDisabledAccountRefusesAllKeysAndTokens(t *testing.T) {
	w := lcNew(t)
	robot := w.robot("Robot")
	secondID, secondSecret := w.key(w.admin, robot.SA)
	second := apiCaller{SA: robot.SA, KeyID: secondID, Secret: secondSecret}
	t1, t2 := w.token(robot), w.token(second)
	w.works("before, key 1", robot, t1)
	w.works("before, key 2", second, t2)

	c := w.app.signedIn(adminEmail)
	c.get(saPath(robot.SA))
	if r := c.post(saPath(robot.SA)+"/disable", url.Values{"confirm": {"yes"}}); r.status != http.StatusSeeOther {
		t.Fatalf("disable account: status %d", r.status)
	}
	w.refusedWith("disabled account, key 1", robot, t1, "This service account is disabled", tokenEnded)
	w.refusedWith("disabled account, key 2", second, t2, "This service account is disabled", tokenEnded)
	page := c.get(saPath(robot.SA))
	if !strings.Contains(page.doc.Find("[data-testid=sa-state]").Text(), "disabled") ||
		page.doc.Find("[data-testid=keys-account-disabled]").Length() != 1 || page.doc.Find("[data-testid=sa-enable]").Length() != 1 {
		t.Fatalf("account page after disabling: %q", page.doc.Find("#sa-state").Text())
	}
	list := c.get("/projects/" + w.inv.ID + "/serviceaccounts")
	if list.doc.Find("[data-testid=sa-disabled]").Length() != 1 {
		t.Fatal("the list does not mark the disabled account")
	}
	// The API says so too, with ?view=FULL, and enables it again.
	admin := w.adminCaller()
	saPathAPI := "/v2/projects/" + w.inv.ID + "/serviceaccounts/" + robot.SA.ID
	var full struct {
		Disabled    bool   `json:"disabled"`
		DisableTime string `json:"disableTime"`
	}
	raw := apiOK(t, w.call(http.MethodGet, saPathAPI+"?view=FULL", apiBasic(admin.KeyID, admin.Secret), nil))
	apiObject(t, raw, "name", "email", "displayName", "enableBasicAuth", "createTime", "updateTime", "disabled", "disableTime")
	if json.Unmarshal(raw, &full); !full.Disabled || full.DisableTime == "" {
		t.Fatalf("full view %s", raw)
	}
	// The contract's shape is unchanged without the view.
	apiDecodeServiceAccount(t, apiOK(t, w.call(http.MethodGet, saPathAPI, apiBasic(admin.KeyID, admin.Secret), nil)))
	raw = apiOK(t, w.call(http.MethodPost, saPathAPI+":enable", apiBasic(admin.KeyID, admin.Secret), nil))
	if json.Unmarshal(raw, &full); full.Disabled {
		t.Fatalf(":enable answered %s", raw)
	}
	w.endedForGood("enabled again, key 1", robot, t1)
	w.endedForGood("enabled again, key 2", second, t2)
	if n := len(w.auditOf(domain.ActionServiceAccountDisable)); n != 1 {
		t.Fatalf("%d disable entries", n)
	}
	if n := len(w.auditOf(domain.ActionServiceAccountEnable)); n != 1 {
		t.Fatalf("%d enable entries", n)
	}
}

func TestLifecycleExpiredKeyRefused(t *testing.T) {
	w := lcNew(t)
	sa := w.account(w.admin, w.inv, "Short-lived", true)
	w.grant(sa.Ref(), w.app.org.ID, w.inv.ID, domain.RoleProjectUser)
	k, secret, err := w.svc.CreateKeyWith(context.Background(), w.admin, w.inv.ID, sa.ID,
		domain.KeyOptions{ExpireTime: w.app.clock.Now().Add(30 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	robot := apiCaller{SA: sa, KeyID: k.ID, Secret: secret}
	token := w.token(robot) // valid for an hour, longer than the key
	w.works("before the expiry", robot, token)
	w.app.clock.Advance(31 * time.Minute)
	w.refused("expired key", robot, token, "This key expired at")
	page := w.app.signedIn(adminEmail).get(saPath(sa))
	if row := page.doc.Find("[data-testid=key-row]"); row.AttrOr("data-state", "") != "EXPIRED" ||
		!strings.Contains(row.Find("[data-testid=key-state]").Text(), "expired") {
		t.Fatalf("expired key row %q", row.Text())
	}
}

func TestLifecycleRotationGraceThenRefused(t *testing.T) {
	w := lcNew(t)
	robot := w.robot("Robot")
	admin := w.adminCaller()
	before := w.token(robot)

	r := w.call(http.MethodPost, lcKeyPath(robot)+":rotate", apiBasic(admin.KeyID, admin.Secret), map[string]string{"gracePeriod": "3600s"})
	raw := apiOK(t, r)
	m := apiObject(t, raw, "key", "secret", "rotatedKey")
	newKey := apiDecodeKey(t, m["key"])
	var secret string
	json.Unmarshal(m["secret"], &secret)
	var old struct {
		State        string `json:"state"`
		RotatedTo    string `json:"rotatedTo"`
		GraceEndTime string `json:"graceEndTime"`
	}
	json.Unmarshal(m["rotatedKey"], &old)
	if old.State != string(domain.KeyInGrace) || !strings.HasSuffix(old.RotatedTo, "/keys/"+newKey.ID) || old.GraceEndTime == "" {
		t.Fatalf("rotated key %s", m["rotatedKey"])
	}
	fresh := apiCaller{SA: robot.SA, KeyID: newKey.ID, Secret: secret}

	// In its grace period the old key still works on every path, and so does the new one.
	w.works("old key in its grace period", robot, before)
	w.works("new key", fresh, w.token(fresh))
	w.app.clock.Advance(30 * time.Minute)
	during := w.token(robot) // issued in the grace period, valid beyond it
	w.works("old key, half way", robot, during)

	// Rotating it again is refused while it is being replaced.
	r = w.call(http.MethodPost, lcKeyPath(robot)+":rotate", apiBasic(admin.KeyID, admin.Secret), nil)
	if e := apiDecodeError(t, r, http.StatusBadRequest); !strings.Contains(e.Error, "already being replaced") {
		t.Fatalf("second rotation: %q", e.Error)
	}

	w.app.clock.Advance(31 * time.Minute)
	w.refused("old key after its grace period", robot, during, "grace period ended")
	w.works("new key after the grace period", fresh, w.token(fresh))
	if e := w.auditOf(domain.ActionKeyRotate); len(e) != 1 || e[0].TargetID != robot.KeyID || !strings.Contains(e[0].Detail, newKey.ID) {
		t.Fatalf("rotation audit %+v", e)
	}
	page := w.app.signedIn(adminEmail).get(saPath(robot.SA))
	if row := page.doc.Find("[data-testid=key-row][data-key-id=" + robot.KeyID + "]"); row.AttrOr("data-state", "") != "ROTATED" {
		t.Fatalf("old key row after the grace period: %q", row.Text())
	}
}

func TestLifecycleRotateInConsoleShowsSecretAndCountdown(t *testing.T) {
	w := lcNew(t)
	robot := w.robot("Robot")
	c := w.app.signedIn(adminEmail)
	c.get(saPath(robot.SA))
	// The old key was used: the row shows it, so the admin sees whether clients moved over.
	w.token(robot)
	keyPage := saPath(robot.SA) + "/keys/" + robot.KeyID
	if r := c.htmxPost(keyPage+"/rotate", url.Values{"grace": {"2w"}}); r.status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.doc.Find("[data-testid=key-error]").Text(), "Choose how long") {
		t.Fatalf("rotate with a bad grace: status %d", r.status)
	}
	r := c.htmxPost(keyPage+"/rotate", url.Values{"grace": {"24h"}})
	if r.status != http.StatusOK || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("rotate: status %d, Cache-Control %q", r.status, r.header.Get("Cache-Control"))
	}
	secret := strings.TrimSpace(r.doc.Find("[data-testid=new-key-secret]").Text())
	newID := strings.TrimSpace(r.doc.Find("[data-testid=new-key-id]").Text())
	if len(secret) != 32 || !domain.ValidID(newID) || r.doc.Find("[data-testid=secret-dialog]").AttrOr("hx-history", "") != "false" {
		t.Fatalf("rotation dialog: secret %q id %q", secret, newID)
	}
	if note := r.doc.Find("[data-testid=rotated-note]").Text(); !strings.Contains(note, robot.KeyID) || !strings.Contains(note, "keeps working until") {
		t.Fatalf("rotation note %q", note)
	}
	old := r.doc.Find("[data-testid=key-row][data-key-id=" + robot.KeyID + "]")
	if got := old.Find("[data-testid=key-countdown]").Text(); !strings.Contains(got, "stops working in 24 h 0 min") && !strings.Contains(got, "stops working in 23 h 59 min") {
		t.Fatalf("countdown %q", got)
	}
	if got := old.Find("[data-testid=key-last-used]").Text(); !strings.Contains(got, "token exchange") {
		t.Fatalf("old key's last use %q", got)
	}
	if got := r.doc.Find("[data-testid=key-row][data-key-id=" + newID + "] [data-testid=key-replaces]").Text(); !strings.Contains(got, robot.KeyID) {
		t.Fatalf("new key row does not say what it replaces: %q", got)
	}
	w.app.clock.Advance(47*time.Minute + 30*time.Second)
	page := c.get(saPath(robot.SA))
	if got := page.doc.Find("[data-key-id=" + robot.KeyID + "] [data-testid=key-countdown]").Text(); !strings.Contains(got, "23 h 12 min") {
		t.Fatalf("countdown later %q", got)
	}
	// The secret is never shown again.
	if strings.Contains(page.body, secret) {
		t.Fatal("the account page shows the new secret again")
	}
	// "Stop it now": the old key is refused at once.
	other := w.robot("Other")
	c.get(saPath(other.SA))
	// (Signed in 47 minutes ago: the password is asked again, and given.)
	if r := c.post(saPath(other.SA)+"/keys/"+other.KeyID+"/rotate", url.Values{"grace": {"now"}, "reauth_password": {adminPassword}}); r.status != http.StatusOK {
		t.Fatalf("rotate now: status %d", r.status)
	}
	if r := w.call(http.MethodGet, w.projectPath(), apiBasic(other.KeyID, other.Secret), nil); r.status != http.StatusUnauthorized {
		t.Fatalf("old key rotated with no grace: %s", r)
	}
}

func TestLifecycleReportCompromised(t *testing.T) {
	w := lcNew(t)
	robot := w.robot("Robot")
	elsewhere := w.app.addProject(w.app.org.ID, "Plant")
	w.grant(robot.SA.Ref(), w.app.org.ID, elsewhere.ID, domain.RoleProjectAdmin)
	token := w.token(robot)
	c := w.app.signedIn(adminEmail)
	keyPage := saPath(robot.SA) + "/keys/" + robot.KeyID + "/compromised"

	form := c.get(keyPage)
	if form.status != http.StatusOK || form.doc.Find("[data-testid=membership-row]").Length() != 2 {
		t.Fatalf("report page: status %d, %d memberships", form.status, form.doc.Find("[data-testid=membership-row]").Length())
	}
	r := c.post(keyPage, url.Values{"reason": {" "}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.doc.Find("[data-testid=error-reason]").Text(), "at least 5") {
		t.Fatalf("report without a reason: status %d", r.status)
	}
	w.works("not reported yet", robot, token)

	r = c.post(keyPage, url.Values{"reason": {"Secret pasted in a public chat"}})
	if r.status != http.StatusOK || !strings.Contains(r.doc.Find("[data-testid=compromised-done]").Text(), robot.KeyID) {
		t.Fatalf("report: status %d", r.status)
	}
	roles := r.doc.Find("[data-testid=reach-role]").Text()
	if r.doc.Find("[data-testid=reach-row]").Length() != 2 || !strings.Contains(roles, "Project admin") || !strings.Contains(roles, "Project user") {
		t.Fatalf("reach %q", r.doc.Find("[data-testid=reach-table]").Text())
	}
	// Its tokens were deleted with the report.
	w.refusedWith("compromised key", robot, token, "reported compromised", "not valid")
	entries := w.auditOf(domain.ActionKeyCompromised)
	if len(entries) != 1 || entries[0].Reason != "Secret pasted in a public chat" || entries[0].TargetID != robot.KeyID ||
		entries[0].OrganizationID != w.app.org.ID || !strings.Contains(entries[0].Detail, "2 access tokens revoked") { // w.token's and works()' exchange
		t.Fatalf("compromise audit %+v", entries)
	}
	// It stays disabled: no enable, in the console or the API.
	if r := c.post(saPath(robot.SA)+"/keys/"+robot.KeyID+"/enable", url.Values{"confirm": {"yes"}}); r.status != http.StatusBadRequest {
		t.Fatalf("enable a compromised key: status %d", r.status)
	}
	page := c.get(saPath(robot.SA))
	row := page.doc.Find("[data-testid=key-row][data-key-id=" + robot.KeyID + "]")
	if row.AttrOr("data-state", "") != "COMPROMISED" || row.Find("[data-testid=enable-key]").Length() != 0 || row.Find("[data-testid=report-compromised]").Length() != 0 {
		t.Fatalf("compromised key row %q", row.Text())
	}
	admin := w.adminCaller()
	if r := w.call(http.MethodPost, lcKeyPath(robot)+":enable", apiBasic(admin.KeyID, admin.Secret), nil); r.status != http.StatusBadRequest {
		t.Fatalf("API enable of a compromised key: %s", r)
	}
	if w.storedKey(robot.KeyID).Works(w.app.clock.Now()) {
		t.Fatal("the stored key still works")
	}
}

func TestLifecycleReportCompromisedAPI(t *testing.T) {
	w := lcNew(t)
	robot := w.robot("Robot")
	admin := w.adminCaller()
	auth := apiBasic(admin.KeyID, admin.Secret)
	if r := w.call(http.MethodPost, lcKeyPath(robot)+":reportCompromised", auth, map[string]string{}); r.status != http.StatusBadRequest {
		t.Fatalf("no reason: %s", r)
	}
	// A project user may not report (it cannot delete keys).
	user := w.robot("Reader")
	if r := w.call(http.MethodPost, lcKeyPath(robot)+":reportCompromised", apiBasic(user.KeyID, user.Secret),
		map[string]string{"reason": "not mine to say"}); r.status != http.StatusForbidden {
		t.Fatalf("project user reports: %s", r)
	}
	raw := apiOK(t, w.call(http.MethodPost, lcKeyPath(robot)+":reportCompromised", auth, map[string]string{"reason": "leaked in CI logs"}))
	m := apiObject(t, raw, "key", "tokensRevoked", "reach")
	var reach []map[string]any
	json.Unmarshal(m["reach"], &reach)
	if len(reach) != 1 || reach[0]["project"] != "projects/"+w.inv.ID || reach[0]["roles"].([]any)[0] != string(domain.RoleProjectUser) {
		t.Fatalf("reach %s", m["reach"])
	}
	apiObject(t, reach0(t, m["reach"]), "name", "organization", "organizationDisplayName", "project", "projectDisplayName", "roles")
	if r := w.call(http.MethodGet, w.projectPath(), apiBasic(robot.KeyID, robot.Secret), nil); r.status != http.StatusUnauthorized {
		t.Fatalf("compromised key still works: %s", r)
	}
}

// lcAbout compares stored times, which keep microseconds only.
func lcAbout(got, want time.Time) bool {
	d := got.Sub(want)
	return d > -time.Millisecond && d < time.Millisecond
}

func reach0(t *testing.T, raw json.RawMessage) []byte {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || len(items) == 0 {
		t.Fatalf("reach %s", raw)
	}
	return items[0]
}

func TestLifecycleKeyFullViewKeepsTheContract(t *testing.T) {
	w := lcNew(t)
	robot := w.robot("Robot")
	admin := w.adminCaller()
	auth := apiBasic(admin.KeyID, admin.Secret)
	w.token(robot)
	// Without view=FULL the key keeps the contract's exact shape.
	apiDecodeKey(t, apiOK(t, w.call(http.MethodGet, lcKeyPath(robot), auth, nil)))
	items, _ := apiList(t, w.call(http.MethodGet, "/v2/projects/"+w.inv.ID+"/serviceaccounts/"+robot.SA.ID+"/keys", auth, nil), "keys")
	for _, it := range items {
		apiDecodeKey(t, it)
	}
	full := []string{"name", "id", "createTime", "state", "disabled", "disableTime", "compromised", "compromiseTime",
		"expireTime", "rotatedTo", "graceEndTime", "lastUseTime", "lastUseVia", "lastUseFrom"}
	raw := apiOK(t, w.call(http.MethodGet, lcKeyPath(robot)+"?view=FULL", auth, nil))
	m := apiObject(t, raw, full...)
	if string(m["state"]) != `"ACTIVE"` || string(m["lastUseVia"]) != `"token"` || string(m["expireTime"]) != `""` {
		t.Fatalf("full key %s", raw)
	}
	apiCheckTime(t, "lastUseTime", strings.Trim(string(m["lastUseTime"]), `"`))
	raw = apiOK(t, w.call(http.MethodPost, lcKeyPath(robot)+":disable", auth, nil))
	if m = apiObject(t, raw, full...); string(m["disabled"]) != "true" || string(m["state"]) != `"DISABLED"` {
		t.Fatalf(":disable answered %s", raw)
	}
	// Unknown methods are not found; the contract's create still takes no body fields but expireTime.
	if r := w.call(http.MethodPost, lcKeyPath(robot)+":explode", auth, nil); r.status != http.StatusNotFound {
		t.Fatalf(":explode: %s", r)
	}
	if r := w.call(http.MethodPost, "/v2/projects/"+w.inv.ID+"/serviceaccounts/"+robot.SA.ID+"/keys", auth, map[string]string{"color": "red"}); r.status != http.StatusBadRequest {
		t.Fatalf("create with an unknown field: %s", r)
	}
}

func TestLifecycleKeyPolicyEnforcedInConsoleAndAPI(t *testing.T) {
	w := lcNew(t)
	robot := w.robot("Robot")
	c := w.app.signedIn(adminEmail)
	settings := "/orgs/" + w.app.org.ID + "/settings"
	if r := c.get(settings); r.status != http.StatusOK || r.doc.Find("[data-testid=policy-form]").Length() != 1 {
		t.Fatalf("settings page: status %d", r.status)
	}
	if r := c.post(settings, url.Values{"defaultDays": {"120"}, "maxDays": {"90"}}); r.status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.doc.Find("[data-testid=error-defaultDays]").Text(), "cannot be longer than the maximum") {
		t.Fatalf("default beyond the maximum: status %d", r.status)
	}
	if r := c.post(settings, url.Values{"defaultDays": {"abc"}, "maxDays": {"0"}}); r.status != http.StatusUnprocessableEntity ||
		r.doc.Find("[data-testid=error-defaultDays]").Length() != 1 || r.doc.Find("[data-testid=error-maxDays]").Length() != 1 {
		t.Fatalf("bad numbers: status %d", r.status)
	}
	if r := c.post(settings, url.Values{"defaultDays": {"30"}, "maxDays": {"90"}}); r.status != http.StatusSeeOther {
		t.Fatalf("save policy: status %d", r.status)
	}
	if e := w.auditOf(domain.ActionKeyPolicyUpdate); len(e) != 1 || !strings.Contains(e[0].Detail, "90 days") {
		t.Fatalf("policy audit %+v", e)
	}
	// Only organization admins see or change it.
	w.app.addUser("padmin@example.com", w.inv.ID, domain.RoleProjectAdmin, "")
	padmin := w.app.signedIn("padmin@example.com")
	if r := padmin.get(settings); r.status != http.StatusForbidden {
		t.Fatalf("project admin sees the settings: %d", r.status)
	}

	// Console: the default applies, a longer expiry or never is refused.
	acct := saPath(robot.SA)
	page := c.get(acct)
	opts := page.doc.Find("[data-testid=key-expires] option")
	if !strings.Contains(opts.First().Text(), "30 days (organization default)") || strings.Contains(opts.Text(), "1 year") || strings.Contains(opts.Text(), "Never") {
		t.Fatalf("expiry choices %q", opts.Text())
	}
	for _, bad := range []string{"365d", "never"} {
		r := c.htmxPost(acct+"/keys", url.Values{"expires": {bad}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.doc.Find("[data-testid=key-error]").Text(), "90 days") {
			t.Fatalf("console key expiring %s: status %d, error %q", bad, r.status, r.doc.Find("[data-testid=key-error]").Text())
		}
	}
	now := w.app.clock.Now()
	r := c.htmxPost(acct+"/keys", url.Values{"expires": {""}})
	newID := strings.TrimSpace(r.doc.Find("[data-testid=new-key-id]").Text())
	if r.status != http.StatusOK || !domain.ValidID(newID) {
		t.Fatalf("console key with the default: status %d", r.status)
	}
	if got := w.storedKey(newID).ExpireTime; !lcAbout(got, now.Add(30*24*time.Hour)) {
		t.Fatalf("default expiry %s, want 30 days after %s", got, now)
	}
	r = c.htmxPost(acct+"/keys", url.Values{"expires": {"90d"}})
	if id := strings.TrimSpace(r.doc.Find("[data-testid=new-key-id]").Text()); r.status != http.StatusOK || !lcAbout(w.storedKey(id).ExpireTime, now.Add(90*24*time.Hour)) {
		t.Fatalf("console key for 90 days: status %d", r.status)
	}

	// API: the same rule, the same message.
	admin := w.adminCaller()
	keys := "/v2/projects/" + w.inv.ID + "/serviceaccounts/" + robot.SA.ID + "/keys"
	auth := apiBasic(admin.KeyID, admin.Secret)
	r2 := w.call(http.MethodPost, keys, auth, map[string]string{"expireTime": now.Add(100 * 24 * time.Hour).Format(time.RFC3339)})
	if e := apiDecodeError(t, r2, http.StatusBadRequest); !strings.Contains(e.Error, "maximum key lifetime of 90 days") {
		t.Fatalf("API expiry beyond the maximum: %q", e.Error)
	}
	if r2 := w.call(http.MethodPost, keys, auth, map[string]string{"expireTime": "tomorrow"}); r2.status != http.StatusBadRequest {
		t.Fatalf("API bad expireTime: %s", r2)
	}
	raw := apiOK(t, w.call(http.MethodPost, keys, auth, map[string]string{"expireTime": now.Add(10 * 24 * time.Hour).Format(time.RFC3339)}))
	m := apiObject(t, raw, "key", "secret")
	k := apiDecodeKey(t, m["key"])
	if got := w.storedKey(k.ID).ExpireTime; !got.Equal(now.Add(10 * 24 * time.Hour).Truncate(time.Second)) {
		t.Fatalf("API key expiry %s", got)
	}
	// No body: the default.
	raw = apiOK(t, w.call(http.MethodPost, keys+"?view=FULL", auth, nil))
	var created struct {
		Key struct {
			ExpireTime string `json:"expireTime"`
		} `json:"key"`
	}
	json.Unmarshal(raw, &created)
	if exp := apiCheckTime(t, "expireTime", created.Key.ExpireTime); !lcAbout(exp, now.Add(30*24*time.Hour)) {
		t.Fatalf("API default expiry %s", created.Key.ExpireTime)
	}
	// The policy itself over the API, for organization admins only.
	policy := "/v2/organizations/" + w.app.org.ID + "/keyPolicy"
	raw = apiOK(t, w.call(http.MethodGet, policy, auth, nil))
	apiObject(t, raw, "defaultKeyLifetime", "maxKeyLifetime", "updateTime")
	if !strings.Contains(string(raw), `"maxKeyLifetime":"7776000s"`) {
		t.Fatalf("policy %s", raw)
	}
	raw = apiOK(t, w.call(http.MethodPatch, policy, auth, map[string]string{"maxKeyLifetime": ""}))
	if !strings.Contains(string(raw), `"maxKeyLifetime":""`) || !strings.Contains(string(raw), `"defaultKeyLifetime":"2592000s"`) {
		t.Fatalf("policy after PATCH %s", raw)
	}
	if r := w.call(http.MethodGet, policy, apiBasic(robot.KeyID, robot.Secret), nil); r.status != http.StatusForbidden {
		t.Fatalf("project user reads the policy: %s", r)
	}
}

func TestLifecyclePurgeExpiredKeys(t *testing.T) {
	w := lcNew(t)
	ctx := context.Background()
	now := w.app.clock.Now()
	sa := w.account(w.admin, w.inv, "Fleet", false)
	expiring, _, err := w.svc.CreateKeyWith(ctx, w.admin, w.inv.ID, sa.ID, domain.KeyOptions{ExpireTime: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	lasting, _, _ := w.svc.CreateKeyWith(ctx, w.admin, w.inv.ID, sa.ID, domain.KeyOptions{ExpireTime: now.Add(30 * 24 * time.Hour)})
	forever, _, _ := w.svc.CreateKey(ctx, w.admin, w.inv.ID, sa.ID)
	rot, err := w.svc.RotateKey(ctx, w.admin, w.inv.ID, sa.ID, forever.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Another organization's expired key stays.
	org2, admin2 := w.app.addOrg("Elsewhere", "else@example.com")
	p2 := w.app.addProject(org2.ID, "Far")
	w.grant(domain.AccountRef{Type: domain.AccountUser, ID: itoa(admin2.ID)}, org2.ID, p2.ID, domain.RoleProjectAdmin)
	sa2 := w.account(w.principal("else@example.com"), p2, "Far robot", false)
	far, _, err := w.svc.CreateKeyWith(ctx, w.principal("else@example.com"), p2.ID, sa2.ID, domain.KeyOptions{ExpireTime: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	w.app.clock.Advance(2 * time.Hour)

	c := w.app.signedIn(adminEmail)
	settings := "/orgs/" + w.app.org.ID + "/settings"
	page := c.get(settings)
	if n := page.doc.Find("[data-testid=expired-row]").Length(); n != 2 {
		t.Fatalf("%d expired keys listed, want 2: %s", n, page.doc.Find("[data-testid=expired-table]").Text())
	}
	if r := c.post("/orgs/"+w.app.org.ID+"/keys/purge", url.Values{}); r.status != http.StatusBadRequest {
		t.Fatalf("purge without confirmation: %d", r.status)
	}
	r := c.post("/orgs/"+w.app.org.ID+"/keys/purge", url.Values{"confirm": {"yes"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("purge: status %d", r.status)
	}
	if !strings.Contains(c.get(settings).doc.Find("[data-testid=flash]").Text(), "2 expired keys deleted") {
		t.Fatal("no flash after the purge")
	}
	for id, want := range map[string]bool{expiring.ID: false, forever.ID: false, lasting.ID: true, rot.New.ID: true, far.ID: true} {
		_, err := w.app.store.KeyByID(ctx, id)
		if got := err == nil; got != want {
			t.Errorf("key %s exists %v, want %v", id, got, want)
		}
	}
	entries := w.auditOf(domain.ActionKeyPurge)
	if len(entries) != 2 {
		t.Fatalf("%d purge entries, want one per key", len(entries))
	}
	for _, e := range entries {
		if e.OrganizationID != w.app.org.ID || e.ProjectID != w.inv.ID || (e.TargetID != expiring.ID && e.TargetID != forever.ID) {
			t.Errorf("purge entry %+v", e)
		}
	}
	if c.get(settings).doc.Find("[data-testid=no-expired]").Length() != 1 {
		t.Fatal("expired keys listed after the purge")
	}
	// The API purge finds nothing left; other organizations' admins cannot purge here.
	admin := w.adminCaller()
	raw := apiOK(t, w.call(http.MethodPost, "/v2/organizations/"+w.app.org.ID+"/keys:purgeExpired", apiBasic(admin.KeyID, admin.Secret), nil))
	if strings.TrimSpace(string(raw)) != `{"purgedKeys":0}` {
		t.Fatalf("API purge %s", raw)
	}
	if r := w.app.signedIn("else@example.com").post("/orgs/"+w.app.org.ID+"/keys/purge", url.Values{"confirm": {"yes"}}); r.status != http.StatusNotFound {
		t.Fatalf("another organization's admin purges: %d", r.status)
	}
}

func TestLifecycleReauthentication(t *testing.T) {
	w := lcNew(t)
	robot := w.robot("Robot")
	c := w.app.signedIn(adminEmail)
	acct := saPath(robot.SA)
	c.get(acct)
	// Within 15 minutes of signing in, no question.
	w.app.clock.Advance(14 * time.Minute)
	if r := c.htmxPost(acct+"/keys", url.Values{}); r.status != http.StatusOK || r.doc.Find("[data-testid=new-key-secret]").Length() != 1 {
		t.Fatalf("create a key 14 minutes after sign-in: status %d", r.status)
	}
	keysBefore := len(browserSAKeys(t, w.app, robot.SA.ID))

	// After 15 minutes: the password first, for every sensitive action.
	w.app.clock.Advance(2 * time.Minute)
	r := c.post(acct+"/keys", url.Values{"expires": {"30d"}})
	if r.status != http.StatusUnauthorized || r.doc.Find("[data-testid=reauth-form]").Length() != 1 ||
		r.doc.Find("[data-testid=new-key-secret]").Length() != 0 {
		t.Fatalf("create a key 16 minutes after sign-in: status %d", r.status)
	}
	if got := r.doc.Find("[data-testid=reauth-form] input[name=expires]").AttrOr("value", ""); got != "30d" {
		t.Fatalf("the confirm form lost the action's fields: expires = %q", got)
	}
	if r.doc.Find("[data-testid=reauth-form]").AttrOr("action", "") != acct+"/keys" {
		t.Fatalf("confirm form action %q", r.doc.Find("[data-testid=reauth-form]").AttrOr("action", ""))
	}
	hx := c.htmxPost(acct+"/keys", url.Values{})
	if hx.status != http.StatusOK || hx.header.Get("HX-Retarget") != "body" || hx.header.Get("HX-Reswap") != "beforeend" ||
		hx.doc.Find("[data-testid=reauth-dialog] [data-testid=reauth-form]").Length() != 1 {
		t.Fatalf("htmx create key: status %d, retarget %q", hx.status, hx.header.Get("HX-Retarget"))
	}
	if hx.doc.Find("[data-testid=new-key-secret]").Length() != 0 {
		t.Fatal("htmx create key without re-authentication shows a secret")
	}
	for _, path := range []string{acct + "/keys/" + robot.KeyID + "/rotate"} {
		if r := c.post(path, url.Values{"grace": {"24h"}}); r.status != http.StatusUnauthorized {
			t.Fatalf("%s without re-authentication: %d", path, r.status)
		}
	}
	if r := c.post(acct+"/role", url.Values{"role": {string(domain.RoleProjectAdmin)}}); r.status != http.StatusUnauthorized {
		t.Fatalf("grant admin without re-authentication: %d", r.status)
	}
	if r := c.post(acct+"/basicauth", url.Values{"enable": {"true"}}); r.status != http.StatusSeeOther {
		// Basic Auth is already on for the robot: switching it on again changes nothing, so nothing is asked.
		t.Fatalf("Basic Auth on while already on: %d", r.status)
	}
	// Less sensitive changes are not asked about.
	if r := c.post(acct+"/role", url.Values{"role": {string(domain.RoleProjectDev)}}); r.status != http.StatusSeeOther {
		t.Fatalf("grant developer: %d", r.status)
	}
	if r := c.post(acct+"/basicauth", url.Values{"enable": {"false"}}); r.status != http.StatusSeeOther {
		t.Fatalf("Basic Auth off: %d", r.status)
	}
	if r := c.post(acct+"/basicauth", url.Values{"enable": {"true"}}); r.status != http.StatusUnauthorized {
		t.Fatalf("Basic Auth on without re-authentication: %d", r.status)
	}
	if n := len(browserSAKeys(t, w.app, robot.SA.ID)); n != keysBefore {
		t.Fatalf("%d keys after refused creations, want %d", n, keysBefore)
	}

	// A wrong password is refused, and nothing happens.
	r = c.post(acct+"/keys", url.Values{"expires": {"30d"}, "reauth_password": {"wrong password"}})
	if r.status != http.StatusUnauthorized || !strings.Contains(r.doc.Find("[data-testid=reauth-error]").Text(), "incorrect") {
		t.Fatalf("wrong password: status %d", r.status)
	}
	if r.doc.Find("input[name=reauth_password]").AttrOr("value", "") != "" || strings.Contains(r.body, "wrong password") {
		t.Fatal("the confirm form shows the typed password")
	}
	// The right one lets the action through, with its fields.
	now := w.app.clock.Now()
	r = c.post(acct+"/keys", url.Values{"expires": {"30d"}, "reauth_password": {adminPassword}})
	newID := strings.TrimSpace(r.doc.Find("[data-testid=new-key-id]").Text())
	if r.status != http.StatusOK || !domain.ValidID(newID) {
		t.Fatalf("right password: status %d", r.status)
	}
	if got := w.storedKey(newID).ExpireTime; !lcAbout(got, now.Add(30*24*time.Hour)) {
		t.Fatalf("the key made after re-authentication expires %s", got)
	}
	// Then for 15 minutes, no question.
	w.app.clock.Advance(10 * time.Minute)
	if r := c.post(acct+"/role", url.Values{"role": {string(domain.RoleProjectAdmin)}}); r.status != http.StatusSeeOther {
		t.Fatalf("grant admin 10 minutes after re-authenticating: %d", r.status)
	}
	if r := c.post(acct+"/basicauth", url.Values{"enable": {"true"}}); r.status != http.StatusSeeOther {
		t.Fatalf("Basic Auth on 10 minutes after re-authenticating: %d", r.status)
	}
	w.app.clock.Advance(6 * time.Minute)
	if r := c.post(acct+"/keys/"+robot.KeyID+"/rotate", url.Values{"grace": {"1h"}}); r.status != http.StatusUnauthorized {
		t.Fatalf("rotate 16 minutes after re-authenticating: %d", r.status)
	}
	// Someone who may not act is refused before being asked for a password.
	w.app.addUser("dev@example.com", w.inv.ID, domain.RoleProjectDev, "")
	dev := w.app.signedIn("dev@example.com")
	w.app.clock.Advance(20 * time.Minute)
	if r := dev.post(acct+"/keys", url.Values{}); r.status != http.StatusForbidden {
		t.Fatalf("developer creating a key after 20 minutes: %d", r.status)
	}
}

func TestLifecycleSupportDisablesAccountAndKey(t *testing.T) {
	w := lcNew(t)
	robot := w.robot("Robot")
	token := w.token(robot)
	// Support staff without a role in the organization: a support action.
	w.app.addStaff(supportEmail, "")
	w.app.giveTOTP(supportEmail) // staff need a second factor for the support console
	staff := w.app.signedIn(supportEmail)
	page := "/support/accounts/" + robot.SA.ID
	if r := staff.get(page); r.status != http.StatusOK || r.doc.Find("[data-testid=support-disable-sa]").Length() != 1 {
		t.Fatalf("support page: status %d", r.status)
	}
	if r := staff.post(page+"/disable", url.Values{"reason": {""}}); r.status != http.StatusUnprocessableEntity ||
		r.doc.Find("#account-state [data-testid=error-reason]").Length() != 1 {
		t.Fatalf("disable without a reason: status %d", r.status)
	}
	w.works("after a refused disable", robot, token)
	if r := staff.post(page+"/disable", url.Values{"reason": {"Ticket 4711: runaway client"}}); r.status != http.StatusSeeOther {
		t.Fatalf("support disable: status %d", r.status)
	}
	w.refusedWith("disabled by support", robot, token, "This service account is disabled", tokenEnded)
	e := w.auditOf(domain.ActionServiceAccountDisable)
	if len(e) != 1 || !e[0].ActorStaff || e[0].Reason != "Ticket 4711: runaway client" || e[0].OrganizationID != w.app.org.ID {
		t.Fatalf("support disable audit %+v", e)
	}
	// The project's own console shows it, and its admins can enable it again.
	c := w.app.signedIn(adminEmail)
	if got := c.get(saPath(robot.SA)).doc.Find("[data-testid=sa-state]").Text(); !strings.Contains(got, "disabled") {
		t.Fatalf("account page state %q", got)
	}
	if r := staff.post(page+"/enable", url.Values{"reason": {"Ticket 4711: fixed"}}); r.status != http.StatusSeeOther {
		t.Fatalf("support enable: status %d", r.status)
	}
	w.endedForGood("enabled by support", robot, token)
	token = w.token(robot)

	// One key.
	if r := staff.post(page+"/keys/"+robot.KeyID+"/disable", url.Values{"reason": {"Ticket 4712: key in a log"}}); r.status != http.StatusSeeOther {
		t.Fatalf("support key disable: status %d", r.status)
	}
	w.refusedWith("key disabled by support", robot, token, "This key is disabled", tokenEnded)
	if got := staff.get(page).doc.Find("[data-key=" + robot.KeyID + "] [data-testid=support-key-state]").Text(); !strings.Contains(got, "disabled") {
		t.Fatalf("support key state %q", got)
	}
	if r := staff.post(page+"/keys/"+robot.KeyID+"/enable", url.Values{"reason": {"Ticket 4712: rotated the log"}}); r.status != http.StatusSeeOther {
		t.Fatalf("support key enable: status %d", r.status)
	}
	w.endedForGood("key enabled by support", robot, token)
	// Someone who is not staff does not even see the route.
	w.app.addUser("padmin@example.com", w.inv.ID, domain.RoleProjectAdmin, "")
	if r := w.app.signedIn("padmin@example.com").post(page+"/disable", url.Values{"reason": {"not staff at all"}}); r.status != http.StatusNotFound {
		t.Fatalf("project admin on the support route: %d", r.status)
	}
}

// TestLifecycleDisableEndsTokensForGood takes a bearer token, disables the
// key (or its account, or the key in a hygiene bulk action) and enables it
// again through the API: the old token is refused with 401 for good, on
// every kind of disable, while a token issued after the enable works.
func TestLifecycleDisableEndsTokensForGood(t *testing.T) {
	w := lcNew(t)
	admin := w.adminCaller()
	auth := apiBasic(admin.KeyID, admin.Secret)
	robot := w.robot("Robot")
	saAPI := "/v2/projects/" + w.inv.ID + "/serviceaccounts/" + robot.SA.ID
	keyAPI := lcKeyPath(robot)
	for _, c := range []struct {
		name            string
		disable, enable func()
		why             string
	}{
		{"key", func() { apiOK(t, w.call(http.MethodPost, keyAPI+":disable", auth, nil)) },
			func() { apiOK(t, w.call(http.MethodPost, keyAPI+":enable", auth, nil)) }, "This key is disabled"},
		{"service account", func() { apiOK(t, w.call(http.MethodPost, saAPI+":disable", auth, nil)) },
			func() { apiOK(t, w.call(http.MethodPost, saAPI+":enable", auth, nil)) }, "This service account is disabled"},
		{"key, by a hygiene bulk action", func() {
			c := w.app.signedIn(adminEmail)
			r := c.post("/orgs/"+w.app.org.ID+"/hygiene/apply", hygConfirmed(hygForm("old-keys", domain.HygieneDisableKeys, robot.KeyID)))
			if r.status != http.StatusSeeOther {
				t.Fatalf("hygiene disable: status %d", r.status)
			}
		}, func() { apiOK(t, w.call(http.MethodPost, keyAPI+":enable", auth, nil)) }, "This key is disabled"},
	} {
		before := w.token(robot)
		w.works(c.name+": before", robot, before)
		c.disable()
		w.refusedWith(c.name+": disabled", robot, before, c.why, tokenEnded)
		c.enable()
		w.endedForGood(c.name+": enabled again", robot, before)
		// Enabling twice changes nothing for the new token.
		after := w.token(robot)
		c.enable()
		w.works(c.name+": enabled twice", robot, after)
	}
}
