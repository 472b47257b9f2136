package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"studio/domain"
)

func (q queries) OrganizationByID(ctx context.Context, id string) (domain.Organization, error) {
	var o domain.Organization
	var created int64
	err := q.q.QueryRowContext(ctx, "SELECT id, display_name, create_time FROM organizations WHERE id = ?", id).
		Scan(&o.ID, &o.DisplayName, &created)
	o.CreateTime = fromMicros(created)
	return o, notFound(err, "Organization")
}

func (q queries) ListOrganizations(ctx context.Context, account domain.AccountRef, after domain.Cursor, limit int) ([]domain.Organization, error) {
	query := "SELECT id, display_name, create_time FROM organizations o WHERE (name_key, id) > (?, ?)"
	args := []any{after.Key, after.ID}
	if account != (domain.AccountRef{}) {
		col, val, err := accountColumn(account)
		if err != nil {
			return nil, err
		}
		query += ` AND id IN (
			SELECT organization_id FROM organization_members WHERE ` + col + ` = ? AND status = 'ACCEPTED'
			UNION
			SELECT p.organization_id FROM project_members m JOIN projects p ON p.id = m.project_id
			WHERE m.` + col + ` = ? AND m.status = 'ACCEPTED')`
		args = append(args, val, val)
	}
	query += " ORDER BY name_key, id LIMIT ?"
	rows, err := q.q.QueryContext(ctx, query, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.Organization
	for rows.Next() {
		var o domain.Organization
		var created int64
		if err := rows.Scan(&o.ID, &o.DisplayName, &created); err != nil {
			return nil, err
		}
		o.CreateTime = fromMicros(created)
		out = append(out, o)
	}
	return out, rows.Err()
}

func (t *writeTx) CreateOrganization(ctx context.Context, o domain.Organization) error {
	_, err := t.q.ExecContext(ctx, "INSERT INTO organizations (id, display_name, name_key, create_time) VALUES (?, ?, ?, ?)",
		o.ID, o.DisplayName, nameKey(o.DisplayName), micros(o.CreateTime))
	return err
}

// projectColumns read a project with its labels, as a JSON object made
// in the same statement (see labels.go), so a list reads no row per project.
const projectColumns = `p.id, p.organization_id, o.display_name, p.display_name, p.inventory,
	p.latitude, p.longitude, p.time_location, p.create_time, p.update_time, ` + projectLabelsColumn

func scanProject(row interface{ Scan(...any) error }, extra ...any) (domain.Project, error) {
	var p domain.Project
	var created, updated int64
	var lat, lng sql.NullFloat64
	var labels string
	dest := append([]any{&p.ID, &p.OrganizationID, &p.OrganizationDisplayName, &p.DisplayName, &p.Inventory,
		&lat, &lng, &p.Location.TimeLocation, &created, &updated, &labels}, extra...)
	if err := row.Scan(dest...); err != nil {
		return p, err
	}
	if lat.Valid && lng.Valid {
		p.Location.Latitude, p.Location.Longitude = &lat.Float64, &lng.Float64
	}
	p.CreateTime, p.UpdateTime = fromMicros(created), fromMicros(updated)
	var err error
	p.Labels, err = decodeLabels(labels)
	return p, err
}

func (q queries) ProjectByID(ctx context.Context, id string) (domain.Project, error) {
	p, err := scanProject(q.q.QueryRowContext(ctx, "SELECT "+projectColumns+
		" FROM projects p JOIN organizations o ON o.id = p.organization_id WHERE p.id = ?", id))
	return p, notFound(err, "Project")
}

func (q queries) ListProjects(ctx context.Context, f domain.ProjectFilter, after domain.Cursor, limit int) ([]domain.Project, error) {
	query := "SELECT " + projectColumns + " FROM projects p JOIN organizations o ON o.id = p.organization_id WHERE (p.name_key, p.id) > (?, ?)"
	args := []any{after.Key, after.ID}
	if f.OrganizationID != "" {
		query += " AND p.organization_id = ?"
		args = append(args, f.OrganizationID)
	}
	if f.Query != "" {
		query += " AND instr(p.name_key, ?) > 0"
		args = append(args, strings.ToLower(f.Query))
	}
	query, args = withLabelFilters(query, args, f.Labels)
	if f.Account != (domain.AccountRef{}) {
		col, val, err := accountColumn(f.Account)
		if err != nil {
			return nil, err
		}
		query += ` AND (p.id IN (SELECT project_id FROM project_members WHERE ` + col + ` = ? AND status = 'ACCEPTED')
			OR p.organization_id IN (SELECT organization_id FROM organization_members WHERE ` + col + ` = ? AND status = 'ACCEPTED'))`
		args = append(args, val, val)
	}
	query += " ORDER BY p.name_key, p.id LIMIT ?"
	rows, err := q.q.QueryContext(ctx, query, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.Project
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (q queries) ProjectIsEmpty(ctx context.Context, projectID string) (bool, error) {
	var owns bool
	err := q.q.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM service_accounts WHERE project_id = ?)", projectID).Scan(&owns)
	return !owns, err
}

func (q queries) AccessIn(ctx context.Context, account domain.AccountRef, projectID string) (domain.Access, error) {
	col, val, err := accountColumn(account)
	if err != nil {
		return domain.Access{}, err
	}
	var a domain.Access
	var role sql.NullString
	a.Project, err = scanProject(q.q.QueryRowContext(ctx, "SELECT "+projectColumns+`,
		(SELECT role FROM project_members WHERE project_id = p.id AND `+col+` = ? AND status = 'ACCEPTED'),
		EXISTS (SELECT 1 FROM organization_members WHERE organization_id = p.organization_id AND `+col+` = ? AND status = 'ACCEPTED')
		FROM projects p JOIN organizations o ON o.id = p.organization_id WHERE p.id = ?`, val, val, projectID), &role, &a.OrgAdmin)
	a.ProjectRole = domain.Role(role.String)
	return a, notFound(err, "Project")
}

func (q queries) IsOrgAdmin(ctx context.Context, account domain.AccountRef, orgID string) (bool, error) {
	col, val, err := accountColumn(account)
	if err != nil {
		return false, err
	}
	var admin bool
	err = q.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM organization_members
		WHERE organization_id = ? AND `+col+` = ? AND status = 'ACCEPTED')`, orgID, val).Scan(&admin)
	return admin, err
}

func (t *writeTx) CreateProject(ctx context.Context, p domain.Project) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO projects (id, organization_id, display_name, name_key, inventory,
		latitude, longitude, time_location, create_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.OrganizationID, p.DisplayName, nameKey(p.DisplayName), p.Inventory,
		p.Location.Latitude, p.Location.Longitude, p.Location.TimeLocation, micros(p.CreateTime), micros(p.UpdateTime))
	if err != nil {
		return err
	}
	return t.insertProjectLabels(ctx, p.ID, p.Labels)
}

func (t *writeTx) UpdateProject(ctx context.Context, p domain.Project) error {
	return t.execOne(ctx, "Project", `UPDATE projects SET display_name = ?, name_key = ?, latitude = ?, longitude = ?,
		time_location = ?, update_time = ? WHERE id = ?`, p.DisplayName, nameKey(p.DisplayName),
		p.Location.Latitude, p.Location.Longitude, p.Location.TimeLocation, micros(p.UpdateTime), p.ID)
}

func (t *writeTx) DeleteProject(ctx context.Context, id string) error {
	return t.execOne(ctx, "Project", "DELETE FROM projects WHERE id = ?", id)
}

func (t *writeTx) CreateMembership(ctx context.Context, m *domain.Membership) error {
	col, val, err := accountColumn(m.Account)
	if err != nil {
		return err
	}
	var res sql.Result
	if m.ProjectID != "" {
		res, err = t.q.ExecContext(ctx, "INSERT INTO project_members (project_id, "+col+
			", role, status, create_time) VALUES (?, ?, ?, ?, ?)", m.ProjectID, val, string(m.Role), string(m.Status), micros(m.CreateTime))
	} else {
		res, err = t.q.ExecContext(ctx, "INSERT INTO organization_members (organization_id, "+col+
			", role, status, create_time) VALUES (?, ?, ?, ?, ?)", m.OrganizationID, val, string(m.Role), string(m.Status), micros(m.CreateTime))
	}
	if isUnique(err) {
		return domain.Errorf(domain.ECONFLICT, "This account is already a member.")
	}
	if err != nil {
		return err
	}
	m.ID, err = res.LastInsertId()
	return err
}
