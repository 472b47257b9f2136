package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"studio/domain"
)

// The store of sign-in security (issue 19): second factors, sign-ins in
// progress, organization sign-in policies and single sign-on. It
// satisfies domain.SecondFactorStore.

var _ domain.SecondFactorStore = (*DB)(nil)
var _ domain.SecondFactorTx = (*writeTx)(nil)

// UpdateSignIn runs fn in one write transaction (see Update).
func (d *DB) UpdateSignIn(ctx context.Context, fn func(domain.SecondFactorTx) error) error {
	d.count.transaction()
	return d.update(ctx, func(tx *sql.Tx) error { return fn(&writeTx{queries{q: named(counted(tx, d.count))}}) })
}

func (q queries) TOTPFactor(ctx context.Context, userID int64) (domain.TOTPFactor, error) {
	f := domain.TOTPFactor{UserID: userID}
	var created, confirmed int64
	err := q.q.QueryRowContext(ctx, "SELECT secret_sealed, create_time, confirm_time, last_step FROM totp_factors WHERE user_id = ?", userID).
		Scan(&f.Sealed, &created, &confirmed, &f.LastStep)
	f.CreateTime, f.ConfirmTime = fromMicros(created), fromMicros(confirmed)
	return f, notFound(err, "Authenticator app")
}

func (q queries) RecoveryCodes(ctx context.Context, userID int64) ([]domain.RecoveryCode, error) {
	rows, err := q.q.QueryContext(ctx, "SELECT id, code_hash FROM recovery_codes WHERE user_id = ? AND used_time = 0 ORDER BY id LIMIT ?",
		userID, domain.RecoveryCodeCount*2)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.RecoveryCode
	for rows.Next() {
		c := domain.RecoveryCode{UserID: userID}
		if err := rows.Scan(&c.ID, &c.Hash); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

const passkeyColumns = "id, user_id, credential_id, name, record_sealed, create_time, last_used_time"

func scanPasskey(row interface{ Scan(...any) error }) (domain.Passkey, error) {
	var k domain.Passkey
	var created, used int64
	err := row.Scan(&k.ID, &k.UserID, &k.CredentialID, &k.Name, &k.Sealed, &created, &used)
	k.CreateTime, k.LastUsed = fromMicros(created), fromMicros(used)
	return k, err
}

func (q queries) ListPasskeys(ctx context.Context, userID int64) ([]domain.Passkey, error) {
	rows, err := q.q.QueryContext(ctx, "SELECT "+passkeyColumns+" FROM passkeys WHERE user_id = ? ORDER BY id LIMIT ?",
		userID, domain.MaxPasskeys+1)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.Passkey
	for rows.Next() {
		k, err := scanPasskey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

func (q queries) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (domain.Passkey, error) {
	k, err := scanPasskey(q.q.QueryRowContext(ctx, "SELECT "+passkeyColumns+" FROM passkeys WHERE credential_id = ?", credentialID))
	return k, notFound(err, "Passkey")
}

func (q queries) WebAuthnHandle(ctx context.Context, userID int64) ([]byte, error) {
	var h []byte
	err := q.q.QueryRowContext(ctx, "SELECT handle FROM webauthn_users WHERE user_id = ?", userID).Scan(&h)
	return h, notFound(err, "Passkey user")
}

func (q queries) UserByWebAuthnHandle(ctx context.Context, handle []byte) (int64, error) {
	var id int64
	err := q.q.QueryRowContext(ctx, "SELECT user_id FROM webauthn_users WHERE handle = ?", handle).Scan(&id)
	return id, notFound(err, "Passkey user")
}

func (q queries) PendingSignIn(ctx context.Context, idHash string) (domain.PendingSignIn, error) {
	p := domain.PendingSignIn{IDHash: idHash}
	var created int64
	err := q.q.QueryRowContext(ctx, "SELECT kind, user_id, sso_org, sso_subject, challenge, create_time FROM pending_signins WHERE id_hash = ?", idHash).
		Scan(&p.Kind, &p.UserID, &p.SSOOrg, &p.SSOSubject, &p.Challenge, &created)
	p.CreateTime = fromMicros(created)
	return p, notFound(err, "Sign-in")
}

func (q queries) SignInPolicy(ctx context.Context, orgID string) (domain.SignInPolicy, error) {
	p := domain.SignInPolicy{OrganizationID: orgID}
	var updated int64
	err := q.q.QueryRowContext(ctx, "SELECT require_second_factor, require_sso, update_time FROM organization_signin_policies WHERE organization_id = ?", orgID).
		Scan(&p.RequireSecondFactor, &p.RequireSSO, &updated)
	p.UpdateTime = fromMicros(updated)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	}
	return p, err
}

func (q queries) ProjectSignInPolicy(ctx context.Context, projectID string) (domain.SignInPolicy, error) {
	var p domain.SignInPolicy
	var updated int64
	err := q.q.QueryRowContext(ctx, `SELECT pr.organization_id, coalesce(p.require_second_factor, 0), coalesce(p.require_sso, 0), coalesce(p.update_time, 0)
		FROM projects pr LEFT JOIN organization_signin_policies p ON p.organization_id = pr.organization_id WHERE pr.id = ?`, projectID).
		Scan(&p.OrganizationID, &p.RequireSecondFactor, &p.RequireSSO, &updated)
	p.UpdateTime = fromMicros(updated)
	return p, notFound(err, "Project")
}

func (q queries) SignInPoliciesOf(ctx context.Context, userID int64) ([]domain.SignInPolicy, error) {
	rows, err := q.q.QueryContext(ctx, `
		SELECT p.organization_id, p.require_second_factor, p.require_sso, p.update_time
		FROM organization_signin_policies p
		WHERE (p.require_second_factor = 1 OR p.require_sso = 1) AND p.organization_id IN (
			SELECT organization_id FROM organization_members WHERE user_id = ? AND status = 'ACCEPTED'
			UNION
			SELECT pr.organization_id FROM project_members m JOIN projects pr ON pr.id = m.project_id
			WHERE m.user_id = ? AND m.status = 'ACCEPTED')
		ORDER BY p.organization_id`, userID, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.SignInPolicy
	for rows.Next() {
		var p domain.SignInPolicy
		var updated int64
		if err := rows.Scan(&p.OrganizationID, &p.RequireSecondFactor, &p.RequireSSO, &updated); err != nil {
			return nil, err
		}
		p.UpdateTime = fromMicros(updated)
		out = append(out, p)
	}
	return out, rows.Err()
}

func (q queries) SSOConnection(ctx context.Context, orgID string) (domain.SSOConnection, error) {
	c := domain.SSOConnection{OrganizationID: orgID}
	var role string
	var created, updated int64
	err := q.q.QueryRowContext(ctx, `SELECT provider_name, issuer, client_id, client_secret_sealed, default_project_id, default_role,
		create_time, update_time FROM sso_connections WHERE organization_id = ?`, orgID).
		Scan(&c.ProviderName, &c.Issuer, &c.ClientID, &c.SealedSecret, &c.DefaultProjectID, &role, &created, &updated)
	if err != nil {
		return c, notFound(err, "Identity provider")
	}
	c.DefaultRole, c.CreateTime, c.UpdateTime = domain.Role(role), fromMicros(created), fromMicros(updated)
	rows, err := q.q.QueryContext(ctx, "SELECT domain FROM sso_domains WHERE organization_id = ? ORDER BY domain", orgID)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return c, err
		}
		c.Domains = append(c.Domains, d)
	}
	return c, rows.Err()
}

func (q queries) SSOConnectionForDomain(ctx context.Context, domainName string) (domain.SSOConnection, error) {
	var orgID string
	err := q.q.QueryRowContext(ctx, "SELECT organization_id FROM sso_domains WHERE domain = ?", strings.ToLower(domainName)).Scan(&orgID)
	if err != nil {
		return domain.SSOConnection{}, notFound(err, "Identity provider")
	}
	return q.SSOConnection(ctx, orgID)
}

const ssoLinkQuery = `SELECT l.organization_id, l.subject, l.user_id, l.issuer, l.create_time, o.display_name, coalesce(c.provider_name, '')
	FROM sso_links l JOIN organizations o ON o.id = l.organization_id
	LEFT JOIN sso_connections c ON c.organization_id = l.organization_id `

func scanSSOLink(row interface{ Scan(...any) error }) (domain.SSOLink, error) {
	var l domain.SSOLink
	var created int64
	err := row.Scan(&l.OrganizationID, &l.Subject, &l.UserID, &l.Issuer, &created, &l.OrganizationName, &l.ProviderName)
	l.CreateTime = fromMicros(created)
	return l, err
}

func (q queries) SSOLinkBySubject(ctx context.Context, orgID, subject string) (domain.SSOLink, error) {
	l, err := scanSSOLink(q.q.QueryRowContext(ctx, ssoLinkQuery+"WHERE l.organization_id = ? AND l.subject = ?", orgID, subject))
	return l, notFound(err, "Link")
}

func (q queries) SSOLinksOf(ctx context.Context, userID int64) ([]domain.SSOLink, error) {
	// A user holds at most one link per organization; the limit bounds the page.
	rows, err := q.q.QueryContext(ctx, ssoLinkQuery+"WHERE l.user_id = ? ORDER BY o.name_key, l.organization_id LIMIT 100", userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.SSOLink
	for rows.Next() {
		l, err := scanSSOLink(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

func (t *writeTx) SetTOTPFactor(ctx context.Context, f domain.TOTPFactor) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO totp_factors (user_id, secret_sealed, create_time, confirm_time, last_step) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, create_time = excluded.create_time,
		confirm_time = excluded.confirm_time, last_step = excluded.last_step`,
		f.UserID, f.Sealed, micros(f.CreateTime), micros(f.ConfirmTime), f.LastStep)
	return err
}

func (t *writeTx) DeleteTOTPFactor(ctx context.Context, userID int64) error {
	_, err := t.q.ExecContext(ctx, "DELETE FROM totp_factors WHERE user_id = ?", userID)
	return err
}

func (t *writeTx) AdvanceTOTPStep(ctx context.Context, userID, step int64) (bool, error) {
	res, err := t.q.ExecContext(ctx, "UPDATE totp_factors SET last_step = ? WHERE user_id = ? AND last_step < ? AND confirm_time <> 0", step, userID, step)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *writeTx) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes []string) error {
	if _, err := t.q.ExecContext(ctx, "DELETE FROM recovery_codes WHERE user_id = ?", userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := t.q.ExecContext(ctx, "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)", userID, h); err != nil {
			return err
		}
	}
	return nil
}

func (t *writeTx) UseRecoveryCode(ctx context.Context, id int64, at time.Time) (bool, error) {
	res, err := t.q.ExecContext(ctx, "UPDATE recovery_codes SET used_time = ? WHERE id = ? AND used_time = 0", micros(at), id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *writeTx) SetWebAuthnHandle(ctx context.Context, userID int64, handle []byte) error {
	_, err := t.q.ExecContext(ctx, "INSERT INTO webauthn_users (user_id, handle) VALUES (?, ?)", userID, handle)
	return err
}

func (t *writeTx) CreatePasskey(ctx context.Context, k *domain.Passkey) error {
	res, err := t.q.ExecContext(ctx, `INSERT INTO passkeys (user_id, credential_id, name, record_sealed, create_time, last_used_time)
		VALUES (?, ?, ?, ?, ?, ?)`, k.UserID, k.CredentialID, k.Name, k.Sealed, micros(k.CreateTime), micros(k.LastUsed))
	if isUnique(err) {
		return domain.Errorf(domain.ECONFLICT, "This passkey is registered already.")
	}
	if err != nil {
		return err
	}
	k.ID, err = res.LastInsertId()
	return err
}

func (t *writeTx) UpdatePasskeyUse(ctx context.Context, id int64, sealed []byte, at time.Time) error {
	return t.execOne(ctx, "Passkey", "UPDATE passkeys SET record_sealed = ?, last_used_time = ? WHERE id = ?", sealed, micros(at), id)
}

func (t *writeTx) DeletePasskey(ctx context.Context, userID, id int64) error {
	return t.execOne(ctx, "Passkey", "DELETE FROM passkeys WHERE id = ? AND user_id = ?", id, userID)
}

func (t *writeTx) DeleteSecondFactors(ctx context.Context, userID int64) error {
	for _, stmt := range []string{
		"DELETE FROM totp_factors WHERE user_id = ?",
		"DELETE FROM recovery_codes WHERE user_id = ?",
		"DELETE FROM passkeys WHERE user_id = ?",
		"DELETE FROM webauthn_users WHERE user_id = ?",
		"DELETE FROM pending_signins WHERE user_id = ?",
	} {
		if _, err := t.q.ExecContext(ctx, stmt, userID); err != nil {
			return err
		}
	}
	return nil
}

func (t *writeTx) CreatePendingSignIn(ctx context.Context, p domain.PendingSignIn) error {
	if p.Challenge == nil {
		p.Challenge = []byte{}
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO pending_signins (id_hash, kind, user_id, sso_org, sso_subject, challenge, create_time)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, p.IDHash, p.Kind, p.UserID, p.SSOOrg, p.SSOSubject, p.Challenge, micros(p.CreateTime))
	return err
}

func (t *writeTx) SetPendingChallenge(ctx context.Context, idHash string, challenge []byte) error {
	return t.execOne(ctx, "Sign-in", "UPDATE pending_signins SET challenge = ? WHERE id_hash = ?", challenge, idHash)
}

func (t *writeTx) TakePendingSignIn(ctx context.Context, idHash string) (domain.PendingSignIn, error) {
	p := domain.PendingSignIn{IDHash: idHash}
	var created int64
	err := t.q.QueryRowContext(ctx, `DELETE FROM pending_signins WHERE id_hash = ?
		RETURNING kind, user_id, sso_org, sso_subject, challenge, create_time`, idHash).
		Scan(&p.Kind, &p.UserID, &p.SSOOrg, &p.SSOSubject, &p.Challenge, &created)
	p.CreateTime = fromMicros(created)
	return p, notFound(err, "Sign-in")
}

// signInForgetBatch bounds the expired rows one write forgets.
const signInForgetBatch = 100

func (t *writeTx) ForgetPendingSignIns(ctx context.Context, before time.Time) error {
	_, err := t.q.ExecContext(ctx, `DELETE FROM pending_signins WHERE rowid IN
		(SELECT rowid FROM pending_signins WHERE create_time < ? LIMIT ?)`, micros(before), signInForgetBatch)
	return err
}

func (t *writeTx) SetSecondFactorReset(ctx context.Context, userID int64, r domain.SecondFactorReset) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO second_factor_resets (user_id, time, reason) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET time = excluded.time, reason = excluded.reason`, userID, micros(r.Time), r.Reason)
	return err
}

func (t *writeTx) TakeSecondFactorReset(ctx context.Context, userID int64) (domain.SecondFactorReset, error) {
	var r domain.SecondFactorReset
	var at int64
	err := t.q.QueryRowContext(ctx, "DELETE FROM second_factor_resets WHERE user_id = ? RETURNING time, reason", userID).Scan(&at, &r.Reason)
	r.Time = fromMicros(at)
	return r, notFound(err, "Reset")
}

func (t *writeTx) SetSignInPolicy(ctx context.Context, p domain.SignInPolicy) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO organization_signin_policies (organization_id, require_second_factor, require_sso, update_time)
		VALUES (?, ?, ?, ?) ON CONFLICT (organization_id) DO UPDATE SET require_second_factor = excluded.require_second_factor,
		require_sso = excluded.require_sso, update_time = excluded.update_time`,
		p.OrganizationID, p.RequireSecondFactor, p.RequireSSO, micros(p.UpdateTime))
	return err
}

func (t *writeTx) SetSSOConnection(ctx context.Context, c domain.SSOConnection) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO sso_connections (organization_id, provider_name, issuer, client_id, client_secret_sealed,
		default_project_id, default_role, create_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (organization_id) DO UPDATE SET provider_name = excluded.provider_name, issuer = excluded.issuer,
		client_id = excluded.client_id, client_secret_sealed = excluded.client_secret_sealed,
		default_project_id = excluded.default_project_id, default_role = excluded.default_role, update_time = excluded.update_time`,
		c.OrganizationID, c.ProviderName, c.Issuer, c.ClientID, c.SealedSecret, c.DefaultProjectID, string(c.DefaultRole),
		micros(c.CreateTime), micros(c.UpdateTime))
	if err != nil {
		return err
	}
	if _, err := t.q.ExecContext(ctx, "DELETE FROM sso_domains WHERE organization_id = ?", c.OrganizationID); err != nil {
		return err
	}
	for _, d := range c.Domains {
		_, err := t.q.ExecContext(ctx, "INSERT INTO sso_domains (domain, organization_id) VALUES (?, ?)", d, c.OrganizationID)
		if isUnique(err) {
			return domain.Errorf(domain.ECONFLICT, "The domain %s already signs in through another organization's provider.", d)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *writeTx) DeleteSSOConnection(ctx context.Context, orgID string) error {
	return t.execOne(ctx, "Identity provider", "DELETE FROM sso_connections WHERE organization_id = ?", orgID)
}

func (t *writeTx) CreateSSOLink(ctx context.Context, l domain.SSOLink) error {
	_, err := t.q.ExecContext(ctx, "INSERT INTO sso_links (organization_id, subject, user_id, issuer, create_time) VALUES (?, ?, ?, ?, ?)",
		l.OrganizationID, l.Subject, l.UserID, l.Issuer, micros(l.CreateTime))
	if isUnique(err) {
		return domain.Errorf(domain.ECONFLICT, "This identity or account is linked already.")
	}
	return err
}

func (t *writeTx) CreateSSOState(ctx context.Context, s domain.SSOState) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO sso_states (state_hash, organization_id, nonce_hash, verifier_sealed, browser_hash, next, create_time)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, s.StateHash, s.OrganizationID, s.NonceHash, s.SealedVerifier, s.BrowserHash, s.Next, micros(s.CreateTime))
	return err
}

func (t *writeTx) TakeSSOState(ctx context.Context, stateHash string) (domain.SSOState, error) {
	s := domain.SSOState{StateHash: stateHash}
	var created int64
	err := t.q.QueryRowContext(ctx, `DELETE FROM sso_states WHERE state_hash = ?
		RETURNING organization_id, nonce_hash, verifier_sealed, browser_hash, next, create_time`, stateHash).
		Scan(&s.OrganizationID, &s.NonceHash, &s.SealedVerifier, &s.BrowserHash, &s.Next, &created)
	s.CreateTime = fromMicros(created)
	return s, notFound(err, "Sign-in")
}

func (t *writeTx) ForgetSSOStates(ctx context.Context, before time.Time) error {
	_, err := t.q.ExecContext(ctx, `DELETE FROM sso_states WHERE rowid IN
		(SELECT rowid FROM sso_states WHERE create_time < ? LIMIT ?)`, micros(before), signInForgetBatch)
	return err
}

// HasSealedSignInSecrets reports whether the database holds a secret of
// sign-in sealed with the server key (a TOTP seed, a passkey record, a
// client secret): like key secrets, they forbid making a new server key.
func (d *DB) HasSealedSignInSecrets(ctx context.Context) (bool, error) {
	var n int
	err := d.read.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM (SELECT 1 FROM totp_factors LIMIT 1))
		+ (SELECT count(*) FROM (SELECT 1 FROM passkeys LIMIT 1)) + (SELECT count(*) FROM (SELECT 1 FROM sso_connections LIMIT 1))`).Scan(&n)
	return n > 0, err
}
