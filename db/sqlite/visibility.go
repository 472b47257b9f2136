package sqlite

import (
	"context"
	"encoding/json"

	"studio/domain"
)

func (q queries) RolesOf(ctx context.Context, account domain.AccountRef, projectIDs, orgIDs []string) (map[string]domain.Role, map[string]bool, error) {
	col, val, err := accountColumn(account)
	if err != nil {
		return nil, nil, err
	}
	projects, _ := json.Marshal(append([]string{}, projectIDs...))
	orgs, _ := json.Marshal(append([]string{}, orgIDs...))
	roles := map[string]domain.Role{}
	rows, err := q.q.QueryContext(ctx, `SELECT project_id, role FROM project_members
		WHERE `+col+` = ? AND status = 'ACCEPTED' AND project_id IN (SELECT value FROM json_each(?))`, val, string(projects))
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, role string
		if err := rows.Scan(&id, &role); err != nil {
			return nil, nil, err
		}
		roles[id] = domain.Role(role)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	admin := map[string]bool{}
	rows, err = q.q.QueryContext(ctx, `SELECT organization_id FROM organization_members
		WHERE `+col+` = ? AND status = 'ACCEPTED' AND organization_id IN (SELECT value FROM json_each(?))`, val, string(orgs))
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, nil, err
		}
		admin[id] = true
	}
	return roles, admin, rows.Err()
}
