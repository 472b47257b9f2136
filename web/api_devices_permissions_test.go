package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"studio/app"
	"studio/domain"
)

// TestAPIDevicePermissionTable: every device, event, stream and emulator
// endpoint against every role a calling service account can hold, through
// both auth schemes, as the contract's matrix says. 200 allowed; 403 when
// the caller reads the project but lacks the permission; 404 when it
// cannot read it. Every refusal leaves the store as it was.
func TestAPIDevicePermissionTable(t *testing.T) {
	e := newDevEnv(t, withServer(func(c *app.ServerConfig) { c.StreamMaxAge = 100 * time.Millisecond }))
	org := e.app.org
	plant, quarry := e.plant, e.quarry
	callers := map[string]apiCaller{}
	for _, role := range apiTableRoles {
		owner := plant
		if role == "otheradmin" {
			owner = quarry
		}
		callers[role] = e.caller(e.apiEnv.admin, owner, "Table "+role)
	}
	e.grant(callers["user"].SA.Ref(), org.ID, plant.ID, domain.RoleProjectUser)
	e.grant(callers["developer"].SA.Ref(), org.ID, plant.ID, domain.RoleProjectDev)
	e.grant(callers["admin"].SA.Ref(), org.ID, plant.ID, domain.RoleProjectAdmin)
	e.grant(callers["orgadmin"].SA.Ref(), org.ID, "", domain.RoleOrgAdmin)
	e.grant(callers["otheradmin"].SA.Ref(), org.ID, quarry.ID, domain.RoleProjectAdmin)

	setup := e.auth(e.admin, "basic")
	fixed := e.emulate(setup, plant, "temperature", map[string]string{"name": "Fixed"})
	e.publish(setup, fixed, `{"temperature":{"value":1}}`)
	n := 0
	fresh := func() apiDevice {
		n++
		return e.emulate(setup, plant, "touch", map[string]string{"name": fmt.Sprint("Fresh ", n)})
	}

	const (
		ok  = http.StatusOK
		bad = http.StatusForbidden
		nf  = http.StatusNotFound
	)
	var (
		orgReader = [6]int{nf, ok, ok, ok, ok, ok}
		pRead     = [6]int{nf, ok, ok, ok, ok, nf}   // device.read, emulator.read
		pDevelop  = [6]int{nf, bad, ok, ok, ok, nf}  // device.update, emulator.create/update/delete
		pAdmin    = [6]int{nf, bad, bad, ok, ok, nf} // device.transfer
	)
	P, E := "/v2/projects/"+plant.ID, "/emulator/v2/projects/"+plant.ID
	type row struct {
		name    string
		method  string
		want    [6]int
		prepare func() (string, any)
	}
	path := func(p string) func() (string, any) { return func() (string, any) { return p, nil } }
	rows := []row{
		{"GET /projects/{p}/devices", "GET", pRead, path(P + "/devices")},
		{"GET /projects/-/devices", "GET", orgReader, path("/v2/projects/-/devices?organization=organizations/" + org.ID)},
		{"GET /projects/{p}/devices/{d}", "GET", pRead, path("/v2/" + fixed.Name)},
		{"GET /projects/-/devices/{d}", "GET", pRead, path("/v2/projects/-/devices/" + fixed.id())},
		{"GET /projects/{p}/devices/{d}/events", "GET", pRead, path("/v2/" + fixed.Name + "/events")},
		{"GET /projects/{p}/devices:stream", "GET", pRead, path(P + "/devices:stream")},
		{"POST /projects/{p}/devices:batchUpdate", "POST", pDevelop, func() (string, any) {
			return P + "/devices:batchUpdate", map[string]any{"devices": []string{fixed.Name}, "addLabels": map[string]string{"by": fmt.Sprint(n)}}
		}},
		{"POST /projects/{p}/devices:transfer", "POST", pAdmin, func() (string, any) {
			return P + "/devices:transfer", map[string]any{"devices": []string{fixed.Name}}
		}},
		{"emu POST /projects/{p}/devices", "POST", pDevelop, func() (string, any) {
			return E + "/devices", map[string]any{"type": "touch", "labels": map[string]string{}}
		}},
		{"emu GET /projects/{p}/devices", "GET", pRead, path(E + "/devices")},
		{"emu GET /projects/{p}/devices/{d}", "GET", pRead, path("/emulator/v2/" + fixed.Name)},
		{"emu PUT /projects/{p}/devices/{d}", "PUT", pDevelop, func() (string, any) {
			n++
			return "/emulator/v2/" + fixed.Name, map[string]any{"type": "temperature", "labels": map[string]string{"name": fmt.Sprint("Fixed ", n)}}
		}},
		{"emu DELETE /projects/{p}/devices/{d}", "DELETE", pDevelop, func() (string, any) { return "/emulator/v2/" + fresh().Name, nil }},
		{"emu POST /projects/{p}/devices/{d}:publish", "POST", pDevelop, func() (string, any) {
			return "/emulator/v2/" + fixed.Name + ":publish", `{"temperature":{"value":2}}`
		}},
	}
	for _, scheme := range apiSchemes {
		auths := map[string]string{}
		for _, role := range apiTableRoles {
			auths[role] = e.auth(callers[role], scheme)
		}
		for _, r := range rows {
			for i, role := range apiTableRoles {
				t.Run(scheme+"/"+r.name+"/"+role, func(t *testing.T) {
					p, body := r.prepare()
					before := e.deviceSnapshot()
					resp := e.call(r.method, p, auths[role], body)
					want := r.want[i]
					if resp.status != want {
						t.Fatalf("%s %s as %s: %s, want %d", r.method, p, role, resp, want)
					}
					stream := strings.HasSuffix(p, ":stream")
					if want != ok {
						if stream {
							streamError(t, []byte(strings.TrimSuffix(string(resp.body), "\n")), want)
						} else {
							apiDecodeError(t, resp, want)
						}
						if after := e.deviceSnapshot(); after != before {
							t.Fatalf("the refused request changed the store: %s", apiDiff(before, after))
						}
						return
					}
					if !stream {
						apiOK(t, resp)
					}
				})
			}
		}
	}
}
