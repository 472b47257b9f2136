package sqlite_test

import (
	"testing"
	"time"

	"studio/domain"
)

// lcServices is the service accounts service and the API authenticator on e's store.
func lcServices(t *testing.T, e *env) (*domain.ServiceAccounts, *domain.APIAuth) {
	t.Helper()
	sealer, err := domain.NewSealer([]byte("an AES-256 key of 32 bytes......"))
	if err != nil {
		t.Fatal(err)
	}
	return domain.NewServiceAccounts(e.store, sealer, e.clock.Now, "d21s.com"),
		domain.NewAPIAuth(e.store, sealer, e.clock.Now, "http://studio.test/oauth2/token")
}

func TestKeyLifecycleColumnsRoundTrip(t *testing.T) {
	e := newEnv(t)
	b := e.bootstrap()
	svc, _ := lcServices(t, e)
	name := "Robot"
	sa, err := svc.Create(e.ctx, b.principal, b.inventory.ID, domain.ServiceAccountInput{DisplayName: &name})
	if err != nil {
		t.Fatal(err)
	}
	exp := e.clock.Now().Add(48 * time.Hour)
	k, _, err := svc.CreateKeyWith(e.ctx, b.principal, b.inventory.ID, sa.ID, domain.KeyOptions{ExpireTime: exp})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.store.KeyByID(e.ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.ExpireTime.Equal(micro(exp)) || !got.DisabledTime.IsZero() || got.RotatedTo != "" || !got.GraceEnd.IsZero() {
		t.Fatalf("stored key %+v", got)
	}
	now := e.clock.Now()
	got.DisabledTime, got.CompromisedTime, got.RotatedTo, got.GraceEnd = now, now, "x", now.Add(time.Hour)
	if err := e.store.Update(e.ctx, func(tx domain.Tx) error { return tx.UpdateKeyLifecycle(e.ctx, got) }); err != nil {
		t.Fatal(err)
	}
	again, _ := e.store.KeyByID(e.ctx, k.ID)
	if !again.DisabledTime.Equal(micro(now)) || !again.CompromisedTime.Equal(micro(now)) || again.RotatedTo != "x" ||
		!again.GraceEnd.Equal(micro(now.Add(time.Hour))) || !again.ExpireTime.Equal(micro(exp)) {
		t.Fatalf("updated key %+v", again)
	}
	// A missing key is not found.
	missing := domain.Key{ID: domain.NewID(now)}
	err = e.store.Update(e.ctx, func(tx domain.Tx) error { return tx.UpdateKeyLifecycle(e.ctx, missing) })
	wantCode(t, "update a missing key", err, domain.ENOTFOUND)

	// The account's disabled time survives a rename.
	if _, err := svc.SetAccountDisabled(e.ctx, b.principal, b.inventory.ID, sa.ID, true); err != nil {
		t.Fatal(err)
	}
	renamed := "Robot 2"
	if _, err := svc.Update(e.ctx, b.principal, b.inventory.ID, sa.ID, domain.ServiceAccountInput{DisplayName: &renamed}); err != nil {
		t.Fatal(err)
	}
	stored, _ := e.store.ServiceAccountByID(e.ctx, sa.ID)
	if !stored.Disabled() || stored.DisplayName != renamed {
		t.Fatalf("account after disable and rename %+v", stored)
	}
	list, _ := e.store.ListServiceAccounts(e.ctx, domain.ServiceAccountFilter{ProjectID: b.inventory.ID}, domain.Cursor{}, 10)
	if len(list) != 1 || !list[0].Disabled() {
		t.Fatalf("listed account %+v", list)
	}
}

func TestKeyPolicyStore(t *testing.T) {
	e := newEnv(t)
	b := e.bootstrap()
	pol, err := e.store.KeyPolicy(e.ctx, b.org.ID)
	if err != nil || pol != (domain.KeyPolicy{}) {
		t.Fatalf("policy of a new organization %+v (%v), want the zero policy", pol, err)
	}
	svc, _ := lcServices(t, e)
	if _, err := svc.SetKeyPolicy(e.ctx, b.principal, b.org.ID, 30*24*time.Hour, 90*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetKeyPolicy(e.ctx, b.principal, b.org.ID, 0, 60*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	pol, _ = e.store.KeyPolicy(e.ctx, b.org.ID)
	if pol.DefaultLifetime != 0 || pol.MaxLifetime != 60*24*time.Hour || pol.UpdateTime.IsZero() {
		t.Fatalf("policy %+v", pol)
	}
	if n := e.count("SELECT count(*) FROM organization_settings"); n != 1 {
		t.Fatalf("%d settings rows, want 1 (an upsert)", n)
	}
	if n := e.count("SELECT count(*) FROM audit_log WHERE action = ?", domain.ActionKeyPolicyUpdate); n != 2 {
		t.Fatalf("%d policy audit entries, want 2", n)
	}
	// Saving the same policy again changes nothing and writes no entry.
	if _, err := svc.SetKeyPolicy(e.ctx, b.principal, b.org.ID, 0, 60*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := e.count("SELECT count(*) FROM audit_log WHERE action = ?", domain.ActionKeyPolicyUpdate); n != 2 {
		t.Fatalf("%d policy audit entries after a no-op, want 2", n)
	}
	// Someone who is not organization admin cannot set it.
	u := e.newUser("member@example.com", "")
	e.addProjectMember(u, b.inventory, domain.RoleProjectAdmin, domain.StatusAccepted)
	_, err = svc.SetKeyPolicy(e.ctx, domain.UserPrincipal(u, "test"), b.org.ID, 0, 0)
	wantCode(t, "project admin sets the policy", err, domain.EFORBIDDEN)
	_, err = svc.SetKeyPolicy(e.ctx, b.principal, b.org.ID, 100*24*time.Hour, 90*24*time.Hour)
	wantCode(t, "default beyond the maximum", err, domain.EINVALID)
}

func TestListExpiredKeysAndPurge(t *testing.T) {
	e := newEnv(t)
	b := e.bootstrap()
	svc, auth := lcServices(t, e)
	name := "Fleet"
	sa, err := svc.Create(e.ctx, b.principal, b.inventory.ID, domain.ServiceAccountInput{DisplayName: &name})
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	expired, _, _ := svc.CreateKeyWith(e.ctx, b.principal, b.inventory.ID, sa.ID, domain.KeyOptions{ExpireTime: now.Add(time.Minute)})
	live, _, _ := svc.CreateKeyWith(e.ctx, b.principal, b.inventory.ID, sa.ID, domain.KeyOptions{ExpireTime: now.Add(time.Hour)})
	rotated, secret, _ := svc.CreateKey(e.ctx, b.principal, b.inventory.ID, sa.ID)
	rot, err := svc.RotateKey(e.ctx, b.principal, b.inventory.ID, sa.ID, rotated.ID, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// An access token of the rotated key dies with it.
	if err := e.store.CreateAccessToken(e.ctx, domain.AccessToken{Hash: domain.HashToken("t"), KeyID: rotated.ID, ServiceAccountID: sa.ID,
		ExpireTime: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// Another organization's expired key is not listed.
	other := e.newUser("other@example.com", "")
	otherOrg := domain.Organization{ID: domain.NewID(now), DisplayName: "Other", CreateTime: now}
	if err := e.store.Update(e.ctx, func(tx domain.Tx) error { return tx.CreateOrganization(e.ctx, otherOrg) }); err != nil {
		t.Fatal(err)
	}
	e.addOrgAdmin(other, otherOrg.ID, domain.StatusAccepted)
	op := domain.UserPrincipal(other, "test")
	proj := e.createProject(op, otherOrg.ID, "Far")
	osa, err := svc.Create(e.ctx, op, proj.ID, domain.ServiceAccountInput{DisplayName: &name})
	if err != nil {
		t.Fatal(err)
	}
	far, _, _ := svc.CreateKeyWith(e.ctx, op, proj.ID, osa.ID, domain.KeyOptions{ExpireTime: now.Add(time.Minute)})

	if got, err := e.store.ListExpiredKeys(e.ctx, b.org.ID, now, 10); err != nil || len(got) != 0 {
		t.Fatalf("expired keys before anything expired: %+v, %v", got, err)
	}
	e.clock.Advance(3 * time.Minute)
	// The rotated key is refused now, with the secret it had.
	if _, err := auth.Basic(e.ctx, rotated.ID, secret, "test"); domain.ErrorCode(err) != domain.EUNAUTHORIZED {
		t.Fatalf("rotated key after its grace: %v", err)
	}
	got, err := e.store.ListExpiredKeys(e.ctx, b.org.ID, e.clock.Now(), 10)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]domain.ExpiredKey{}
	for _, x := range got {
		ids[x.Key.ID] = x
	}
	if len(got) != 2 || ids[expired.ID].Key.ID == "" || ids[rotated.ID].Key.ID == "" {
		t.Fatalf("expired keys %+v, want %s and %s", got, expired.ID, rotated.ID)
	}
	if x := ids[rotated.ID]; x.AccountEmail != sa.Email || x.ProjectID != b.inventory.ID || x.ProjectDisplayName != b.inventory.DisplayName ||
		!x.EndedAt().Equal(micro(now.Add(2*time.Minute))) {
		t.Fatalf("rotated key's listing %+v", x)
	}
	if one, _ := e.store.ListExpiredKeys(e.ctx, b.org.ID, e.clock.Now(), 1); len(one) != 1 {
		t.Fatalf("limit 1 gave %d", len(one))
	}
	n, err := svc.PurgeExpiredKeys(e.ctx, b.principal, b.org.ID)
	if err != nil || n != 2 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	for id, want := range map[string]int{expired.ID: 0, rotated.ID: 0, live.ID: 1, rot.New.ID: 1, far.ID: 1} {
		if got := e.count("SELECT count(*) FROM keys WHERE id = ?", id); got != want {
			t.Errorf("key %s: %d rows, want %d", id, got, want)
		}
	}
	if got := e.count("SELECT count(*) FROM access_tokens WHERE key_id = ?", rotated.ID); got != 0 {
		t.Errorf("%d access tokens of the purged key left", got)
	}
	if got := e.count("SELECT count(*) FROM audit_log WHERE action = ? AND organization_id = ?", domain.ActionKeyPurge, b.org.ID); got != 2 {
		t.Errorf("%d purge audit entries, want 2", got)
	}
	// A project admin who is not organization admin cannot purge.
	u := e.newUser("padmin@example.com", "")
	e.addProjectMember(u, b.inventory, domain.RoleProjectAdmin, domain.StatusAccepted)
	_, err = svc.PurgeExpiredKeys(e.ctx, domain.UserPrincipal(u, "test"), b.org.ID)
	wantCode(t, "project admin purges", err, domain.EFORBIDDEN)
}

func TestDeleteKeyTokens(t *testing.T) {
	e := newEnv(t)
	b := e.bootstrap()
	svc, _ := lcServices(t, e)
	name := "Robot"
	sa, _ := svc.Create(e.ctx, b.principal, b.inventory.ID, domain.ServiceAccountInput{DisplayName: &name})
	k1, _, _ := svc.CreateKey(e.ctx, b.principal, b.inventory.ID, sa.ID)
	k2, _, _ := svc.CreateKey(e.ctx, b.principal, b.inventory.ID, sa.ID)
	for i, k := range []domain.Key{k1, k1, k2} {
		if err := e.store.CreateAccessToken(e.ctx, domain.AccessToken{Hash: domain.HashToken(string(rune('a' + i))), KeyID: k.ID,
			ServiceAccountID: sa.ID, ExpireTime: e.clock.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := e.store.Update(e.ctx, func(tx domain.Tx) error {
		var err error
		n, err = tx.DeleteKeyTokens(e.ctx, k1.ID)
		return err
	}); err != nil || n != 2 {
		t.Fatalf("deleted %d tokens (%v), want 2", n, err)
	}
	if got := e.count("SELECT count(*) FROM access_tokens"); got != 1 {
		t.Fatalf("%d tokens left, want the other key's one", got)
	}
}

func TestDeleteAccountTokens(t *testing.T) {
	e := newEnv(t)
	b := e.bootstrap()
	svc, _ := lcServices(t, e)
	names := []string{"Robot", "Other robot"}
	var keys []domain.Key
	for _, name := range names {
		sa, _ := svc.Create(e.ctx, b.principal, b.inventory.ID, domain.ServiceAccountInput{DisplayName: &name})
		k1, _, _ := svc.CreateKey(e.ctx, b.principal, b.inventory.ID, sa.ID)
		k2, _, _ := svc.CreateKey(e.ctx, b.principal, b.inventory.ID, sa.ID)
		keys = append(keys, k1, k2)
	}
	for i, k := range keys {
		if err := e.store.CreateAccessToken(e.ctx, domain.AccessToken{Hash: domain.HashToken(string(rune('a' + i))), KeyID: k.ID,
			ServiceAccountID: k.ServiceAccountID, ExpireTime: e.clock.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := e.store.Update(e.ctx, func(tx domain.Tx) error {
		var err error
		n, err = tx.DeleteAccountTokens(e.ctx, keys[0].ServiceAccountID)
		return err
	}); err != nil || n != 2 {
		t.Fatalf("deleted %d tokens (%v), want the account's 2", n, err)
	}
	if got := e.count("SELECT count(*) FROM access_tokens WHERE service_account_id = '" + keys[2].ServiceAccountID + "'"); got != 2 {
		t.Fatalf("%d tokens left of the other account, want 2", got)
	}
}
