package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"studio/domain"
)

// A members:batchDelete naming one member that does not exist removes none.
func TestAPIBatchDeleteIsAllOrNothing(t *testing.T) {
	app := newApp(t)
	ctx := context.Background()
	inv := app.inventory()
	sealer, _ := domain.NewSealer([]byte("an AES-256 key of 32 bytes......"))
	svc := domain.NewServiceAccounts(app.store, sealer, app.clock.Now, "d21s.com")
	adminUser, _ := app.store.UserByEmail(ctx, adminEmail)
	admin := domain.UserPrincipal(adminUser, "test")
	caller, _ := svc.Create(ctx, admin, inv.ID, domain.ServiceAccountInput{DisplayName: strPtr("Caller"), EnableBasicAuth: boolPtr(true)})
	if err := svc.SetProjectRole(ctx, admin, inv.ID, caller.ID, domain.RoleProjectAdmin); err != nil {
		t.Fatal(err)
	}
	k, secret, _ := svc.CreateKey(ctx, admin, inv.ID, caller.ID)
	member := app.addUser("member@example.com", inv.ID, domain.RoleProjectUser, "")
	batch := func(names ...string) int {
		body := `{"names":["` + strings.Join(names, `","`) + `"]}`
		req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/v2/projects/-/members:batchDelete", strings.NewReader(body))
		req.Header.Set("Authorization", "Basic "+base64Std(k.ID+":"+secret))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	name := fmt.Sprintf("projects/%s/members/%d", inv.ID, member.ID)
	ref := domain.AccountRef{Type: domain.AccountUser, ID: itoa(member.ID)}
	if status := batch(name, "projects/"+inv.ID+"/members/999999"); status != http.StatusNotFound {
		t.Fatalf("batch with a missing member: status %d, want 404", status)
	}
	if _, err := app.store.ProjectMembership(ctx, inv.ID, ref); err != nil {
		t.Fatal("a refused batch removed a member")
	}
	if status := batch(name, name); status != http.StatusOK {
		t.Fatalf("batch naming one member twice: status %d", status)
	}
	if _, err := app.store.ProjectMembership(ctx, inv.ID, ref); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatal("the member is still there")
	}
}
