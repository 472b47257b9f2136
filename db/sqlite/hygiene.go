package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"

	"studio/domain"
)

// The credential hygiene lists (domain.HygieneStore). Each list is one
// query: a keyset page in the order of an index of 005_hygiene.sql, with
// the account, project and organization joined and the counts shown beside
// each row computed by indexed subqueries, never by a query per row.

const hygieneKeyColumns = `k.id, k.service_account_id, k.create_time, k.last_used_time, k.last_used_via, k.last_used_from,
	k.disabled_time, k.compromised_time, k.expire_time, k.rotated_to, k.grace_end,
	sa.display_name, sa.email, sa.project_id, sa.enable_basic_auth, sa.disabled_time, p.display_name, p.organization_id, o.display_name`

const hygieneKeyFrom = ` FROM keys k
	JOIN service_accounts sa ON sa.id = k.service_account_id
	JOIN projects p ON p.id = sa.project_id
	JOIN organizations o ON o.id = p.organization_id`

// hygieneActivity is a key's last activity: its last use or, never used,
// its creation. The expression must stay exactly that of keys_by_activity.
const hygieneActivity = "max(k.last_used_time, k.create_time)"

func scanHygieneKey(row interface{ Scan(...any) error }) (domain.HygieneKey, error) {
	var h domain.HygieneKey
	var created, used, disabled, compromised, expire, grace, saDisabled int64
	err := row.Scan(&h.Key.ID, &h.Key.ServiceAccountID, &created, &used, &h.Key.LastUsedVia, &h.Key.LastUsedFrom,
		&disabled, &compromised, &expire, &h.Key.RotatedTo, &grace,
		&h.Account.DisplayName, &h.Account.Email, &h.Account.ProjectID, &h.Account.EnableBasicAuth, &saDisabled,
		&h.ProjectDisplayName, &h.OrganizationID, &h.OrganizationDisplayName)
	h.Key.CreateTime, h.Key.LastUsed = fromMicros(created), fromMicros(used)
	h.Key.DisabledTime, h.Key.CompromisedTime = fromMicros(disabled), fromMicros(compromised)
	h.Key.ExpireTime, h.Key.GraceEnd, h.Account.DisabledTime = fromMicros(expire), fromMicros(grace), fromMicros(saDisabled)
	h.Account.ID = h.Key.ServiceAccountID
	return h, err
}

func (q queries) hygieneKeys(ctx context.Context, query string, args ...any) ([]domain.HygieneKey, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.HygieneKey
	for rows.Next() {
		k, err := scanHygieneKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// scope adds the organization and project filters of a hygiene query.
func hygieneScope(q domain.HygieneQuery, where string, args []any) (string, []any) {
	if q.OrganizationID != "" {
		where += " AND p.organization_id = ?"
		args = append(args, q.OrganizationID)
	}
	if q.ProjectID != "" {
		where += " AND sa.project_id = ?"
		args = append(args, q.ProjectID)
	}
	return where, args
}

func (q queries) HygieneKeys(ctx context.Context, hq domain.HygieneQuery, after domain.Cursor, limit int) ([]domain.HygieneKey, error) {
	query, args, err := hygieneKeysQuery(hq, after, limit)
	if err != nil {
		return nil, err
	}
	return q.hygieneKeys(ctx, query, args...)
}

// hygieneKeysQuery builds the query of a key list and its arguments.
func hygieneKeysQuery(hq domain.HygieneQuery, after domain.Cursor, limit int) (string, []any, error) {
	var order string
	switch hq.List {
	case domain.ListUnusedKeys:
		order = hygieneActivity
	case domain.ListOldKeys:
		order = "k.create_time"
	default:
		return "", nil, fmt.Errorf("hygiene list %q is not a list of keys", hq.List)
	}
	where, args := order+" < ?", []any{micros(hq.Before)}
	if !after.IsZero() {
		at, err := strconv.ParseInt(after.Key, 10, 64)
		if err != nil {
			return "", nil, domain.FieldError("pageToken", "The page token is not valid.")
		}
		// The first term bounds the index range (SQLite does not take a row
		// value over an expression index as one); the second skips the ties.
		where += " AND " + order + " >= ? AND (" + order + ", k.id) > (?, ?)"
		args = append(args, at, at, after.ID)
	}
	where, args = hygieneScope(hq, where, args)
	return "SELECT " + hygieneKeyColumns + hygieneKeyFrom + " WHERE " + where +
		" ORDER BY " + order + ", k.id LIMIT ?", append(args, limit), nil
}

func (q queries) HygieneKeysByID(ctx context.Context, ids []string) ([]domain.HygieneKey, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	return q.hygieneKeys(ctx, "SELECT "+hygieneKeyColumns+hygieneKeyFrom+
		" WHERE k.id IN (SELECT value FROM json_each(?)) ORDER BY k.id", string(list))
}

const hygieneAccountColumns = `sa.id, sa.project_id, sa.email, sa.display_name, sa.enable_basic_auth, sa.create_time, sa.update_time, sa.disabled_time,
	p.display_name, p.organization_id, o.display_name,
	(SELECT count(*) FROM keys k WHERE k.service_account_id = sa.id),
	(SELECT count(*) FROM project_members m WHERE m.service_account_id = sa.id AND m.role = 'roles/project.admin'),
	(SELECT count(*) FROM organization_members m WHERE m.service_account_id = sa.id),
	(SELECT count(*) FROM project_members m WHERE m.service_account_id = sa.id)`

const hygieneAccountFrom = ` FROM service_accounts sa
	JOIN projects p ON p.id = sa.project_id
	JOIN organizations o ON o.id = p.organization_id`

// Conditions of the account lists.
const (
	hygieneHoldsAdmin = `(EXISTS (SELECT 1 FROM project_members m WHERE m.service_account_id = sa.id
			AND m.role = 'roles/project.admin' AND m.service_account_id IS NOT NULL)
		OR EXISTS (SELECT 1 FROM organization_members m WHERE m.service_account_id = sa.id))`
	// Across every organization the admin list starts from the admin
	// memberships (few) rather than from every account.
	hygieneAdminIDs = `sa.id IN (SELECT service_account_id FROM project_members
			WHERE role = 'roles/project.admin' AND service_account_id IS NOT NULL
		UNION SELECT service_account_id FROM organization_members WHERE service_account_id IS NOT NULL)`
	hygieneNoKey        = "NOT EXISTS (SELECT 1 FROM keys k WHERE k.service_account_id = sa.id)"
	hygieneNoMembership = `NOT EXISTS (SELECT 1 FROM project_members m WHERE m.service_account_id = sa.id)
		AND NOT EXISTS (SELECT 1 FROM organization_members m WHERE m.service_account_id = sa.id)`
)

func scanHygieneAccount(row interface{ Scan(...any) error }) (domain.HygieneAccount, error) {
	var h domain.HygieneAccount
	var created, updated, disabled int64
	var projectMembers int
	err := row.Scan(&h.Account.ID, &h.Account.ProjectID, &h.Account.Email, &h.Account.DisplayName, &h.Account.EnableBasicAuth,
		&created, &updated, &disabled, &h.ProjectDisplayName, &h.OrganizationID, &h.OrganizationDisplayName,
		&h.Account.KeyCount, &h.ProjectAdmin, &h.OrgAdmin, &projectMembers)
	h.Account.CreateTime, h.Account.UpdateTime, h.Account.DisabledTime = fromMicros(created), fromMicros(updated), fromMicros(disabled)
	h.Memberships = projectMembers + h.OrgAdmin
	return h, err
}

func (q queries) hygieneAccounts(ctx context.Context, query string, args ...any) ([]domain.HygieneAccount, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.HygieneAccount
	for rows.Next() {
		a, err := scanHygieneAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (q queries) HygieneAccounts(ctx context.Context, hq domain.HygieneQuery, afterID string, limit int) ([]domain.HygieneAccount, error) {
	query, args, err := hygieneAccountsQuery(hq, afterID, limit)
	if err != nil {
		return nil, err
	}
	return q.hygieneAccounts(ctx, query, args...)
}

// hygieneAccountsQuery builds the query of an account list and its arguments.
func hygieneAccountsQuery(hq domain.HygieneQuery, afterID string, limit int) (string, []any, error) {
	var cond string
	switch hq.List {
	case domain.ListBasicAuth:
		cond = "sa.enable_basic_auth = 1"
	case domain.ListAdminAccounts:
		cond = hygieneHoldsAdmin
		if hq.OrganizationID == "" && hq.ProjectID == "" {
			cond = hygieneAdminIDs
		}
	case domain.ListKeylessAccount:
		cond = hygieneNoKey
	case domain.ListUnboundAccount:
		cond = hygieneNoMembership
	default:
		return "", nil, fmt.Errorf("hygiene list %q is not a list of service accounts", hq.List)
	}
	where, args := hygieneScope(hq, "sa.id > ? AND "+cond, []any{afterID})
	return "SELECT " + hygieneAccountColumns + hygieneAccountFrom + " WHERE " + where +
		" ORDER BY sa.id LIMIT ?", append(args, limit), nil
}

func (q queries) HygieneAccountsByID(ctx context.Context, ids []string) ([]domain.HygieneAccount, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	return q.hygieneAccounts(ctx, "SELECT "+hygieneAccountColumns+hygieneAccountFrom+
		" WHERE sa.id IN (SELECT value FROM json_each(?)) ORDER BY sa.id", string(list))
}

func (q queries) OrgAdminsAmong(ctx context.Context, orgID string, accounts []domain.AccountRef) (map[domain.AccountRef]bool, error) {
	users, sas := []int64{}, []string{}
	for _, a := range accounts {
		switch a.Type {
		case domain.AccountUser:
			if n, err := strconv.ParseInt(a.ID, 10, 64); err == nil {
				users = append(users, n)
			}
		case domain.AccountServiceAccount:
			sas = append(sas, a.ID)
		}
	}
	out := map[domain.AccountRef]bool{}
	if len(users)+len(sas) == 0 {
		return out, nil
	}
	u, _ := json.Marshal(users)
	s, _ := json.Marshal(sas)
	rows, err := q.q.QueryContext(ctx, `SELECT user_id, service_account_id FROM organization_members
		WHERE organization_id = ? AND status = 'ACCEPTED' AND (user_id IN (SELECT value FROM json_each(?))
			OR service_account_id IN (SELECT value FROM json_each(?)))`, orgID, string(u), string(s))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var userID sql.NullInt64
		var saID sql.NullString
		if err := rows.Scan(&userID, &saID); err != nil {
			return nil, err
		}
		out[accountOf(userID, saID)] = true
	}
	return out, rows.Err()
}
