package sqlite_test

import (
	"sync"
	"testing"

	"studio/domain"
)

// signInEnv is a database with one user and one organization.
func signInEnv(t *testing.T) (*env, domain.User, domain.Organization) {
	t.Helper()
	e := newEnv(t)
	res, err := e.accounts.Bootstrap(e.ctx, domain.BootstrapInput{AdminEmail: "admin@example.com", AdminPassword: "correct horse battery", OrgName: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	return e, res.Admin, res.Organization
}

// The store's one-use primitives give one yes to racing requests: a TOTP
// step, a recovery code, a sign-in in progress, a single sign-on state.
func TestSignInPrimitivesAreUsedOnce(t *testing.T) {
	e, u, org := signInEnv(t)
	now := e.clock.Now()
	err := e.store.UpdateSignIn(e.ctx, func(tx domain.SecondFactorTx) error {
		if err := tx.SetTOTPFactor(e.ctx, domain.TOTPFactor{UserID: u.ID, Sealed: []byte{1}, CreateTime: now, ConfirmTime: now, LastStep: 10}); err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(e.ctx, u.ID, []string{"h1", "h2"}); err != nil {
			return err
		}
		if err := tx.CreatePendingSignIn(e.ctx, domain.PendingSignIn{IDHash: "p1", Kind: domain.PendingSecondFactor, UserID: u.ID, CreateTime: now}); err != nil {
			return err
		}
		return tx.CreateSSOState(e.ctx, domain.SSOState{StateHash: "s1", OrganizationID: org.ID, NonceHash: "n", SealedVerifier: []byte{1}, BrowserHash: "b", Next: "/", CreateTime: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	codes, err := e.store.RecoveryCodes(e.ctx, u.ID)
	if err != nil || len(codes) != 2 {
		t.Fatalf("recovery codes: %v %v", codes, err)
	}
	var mu sync.Mutex
	wins := map[string]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			err := e.store.UpdateSignIn(e.ctx, func(tx domain.SecondFactorTx) error {
				won := map[string]bool{}
				var err error
				if won["step"], err = tx.AdvanceTOTPStep(e.ctx, u.ID, 11); err != nil {
					return err
				}
				if won["recovery code"], err = tx.UseRecoveryCode(e.ctx, codes[0].ID, now); err != nil {
					return err
				}
				_, err = tx.TakePendingSignIn(e.ctx, "p1")
				won["pending sign-in"] = err == nil
				_, err = tx.TakeSSOState(e.ctx, "s1")
				won["state"] = err == nil
				mu.Lock()
				defer mu.Unlock()
				for k, v := range won {
					if v {
						wins[k]++
					}
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, k := range []string{"step", "recovery code", "pending sign-in", "state"} {
		if wins[k] != 1 {
			t.Errorf("%s used %d times, want once", k, wins[k])
		}
	}
	// An older step than the last accepted is refused too.
	err = e.store.UpdateSignIn(e.ctx, func(tx domain.SecondFactorTx) error {
		if ok, err := tx.AdvanceTOTPStep(e.ctx, u.ID, 9); ok || err != nil {
			t.Errorf("an older step advanced: %v %v", ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if left, _ := e.store.RecoveryCodes(e.ctx, u.ID); len(left) != 1 || left[0].Hash != "h2" {
		t.Fatalf("unused recovery codes: %+v", left)
	}
}

// One email domain signs in through one organization's provider; a
// connection's domains go with it.
func TestSSODomainsBelongToOneOrganization(t *testing.T) {
	e, _, acme := signInEnv(t)
	other := domain.Organization{ID: domain.NewID(e.clock.Now()), DisplayName: "Other", CreateTime: e.clock.Now()}
	if err := e.store.Update(e.ctx, func(tx domain.Tx) error { return tx.CreateOrganization(e.ctx, other) }); err != nil {
		t.Fatal(err)
	}
	conn := func(org string, domains ...string) domain.SSOConnection {
		return domain.SSOConnection{OrganizationID: org, ProviderName: "P", Issuer: "https://idp.example", ClientID: "c", SealedSecret: []byte{1},
			Domains: domains, CreateTime: e.clock.Now(), UpdateTime: e.clock.Now()}
	}
	set := func(c domain.SSOConnection) error {
		return e.store.UpdateSignIn(e.ctx, func(tx domain.SecondFactorTx) error { return tx.SetSSOConnection(e.ctx, c) })
	}
	if err := set(conn(acme.ID, "acme.example", "shared.example")); err != nil {
		t.Fatal(err)
	}
	if err := set(conn(other.ID, "other.example", "shared.example")); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Fatalf("a domain of another organization: %v", err)
	}
	if _, err := e.store.SSOConnection(e.ctx, other.ID); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("the refused connection was stored: %v", err)
	}
	c, err := e.store.SSOConnectionForDomain(e.ctx, "SHARED.example")
	if err != nil || c.OrganizationID != acme.ID {
		t.Fatalf("provider of shared.example: %+v %v", c, err)
	}
	// Saved again with fewer domains, the dropped one is free.
	if err := set(conn(acme.ID, "acme.example")); err != nil {
		t.Fatal(err)
	}
	if err := set(conn(other.ID, "shared.example")); err != nil {
		t.Fatalf("a freed domain: %v", err)
	}
	err = e.store.UpdateSignIn(e.ctx, func(tx domain.SecondFactorTx) error { return tx.DeleteSSOConnection(e.ctx, other.ID) })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.SSOConnectionForDomain(e.ctx, "shared.example"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("the domains of a deleted connection remain: %v", err)
	}
}
