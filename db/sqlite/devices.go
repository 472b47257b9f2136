package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"studio/domain"
)

const deviceColumns = `d.id, d.project_id, d.type, d.product_number, d.emulated, d.labels, d.reported, d.last_seen, d.create_time`

func scanDevice(row interface{ Scan(...any) error }) (domain.Device, error) {
	var d domain.Device
	var labels, reported string
	var lastSeen, created int64
	if err := row.Scan(&d.ID, &d.ProjectID, &d.Type, &d.ProductNumber, &d.Emulated, &labels, &reported, &lastSeen, &created); err != nil {
		return d, err
	}
	d.LastSeen, d.CreateTime = fromMicros(lastSeen), fromMicros(created)
	if err := json.Unmarshal([]byte(labels), &d.Labels); err != nil {
		return d, fmt.Errorf("labels of device %s: %w", d.ID, err)
	}
	if err := json.Unmarshal([]byte(reported), &d.Reported); err != nil {
		return d, fmt.Errorf("reported of device %s: %w", d.ID, err)
	}
	return d, nil
}

func (q queries) DeviceByID(ctx context.Context, id string) (domain.Device, error) {
	d, err := scanDevice(q.q.QueryRowContext(ctx, "SELECT "+deviceColumns+" FROM devices d WHERE d.id = ?", id))
	return d, notFound(err, "Device")
}

func (q queries) DevicesByIDs(ctx context.Context, ids []string) ([]domain.Device, error) {
	var out []domain.Device
	for len(ids) > 0 {
		n := min(len(ids), 500)
		rows, err := q.q.QueryContext(ctx, "SELECT "+deviceColumns+" FROM devices d WHERE d.id IN ("+placeholders(n)+")", anys(ids[:n])...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			d, err := scanDevice(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	return out, nil
}

// labelExpr is the SQL of a device's label value (NULL when it has no
// such label). A key of letters, digits, '-' and '_' is read through a
// JSON path; any other key (it may hold quotes or dots) by searching the
// labels, which needs no quoting.
func labelExpr(key string) (string, []any) {
	simple := key != ""
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			simple = false
			break
		}
	}
	if simple {
		return "json_extract(d.labels, ?)", []any{`$."` + key + `"`}
	}
	return "(SELECT value FROM json_each(d.labels) WHERE key = ?)", []any{key}
}

// orderExpr is the SQL of a device order's field, with its arguments.
func orderExpr(o domain.DeviceOrder) (string, []any) {
	switch {
	case o.Field == "type":
		return "d.type", nil
	case o.Field == "productNumber":
		return "d.product_number", nil
	case strings.HasPrefix(o.Field, "labels."):
		return labelExpr(o.Field[len("labels."):])
	default: // reported.<eventType>.<field>…, checked by domain.ParseOrderBy
		return "json_extract(d.reported, ?)", []any{"$." + strings.TrimPrefix(o.Field, "reported.")}
	}
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func (q queries) ListDevices(ctx context.Context, f domain.DeviceFilter, after domain.Cursor, limit int) ([]domain.Device, error) {
	var where []string
	var args []any
	add := func(clause string, a ...any) {
		where = append(where, clause)
		args = append(args, a...)
	}
	if f.ProjectID != "" {
		add("d.project_id = ?", f.ProjectID)
	} else {
		scope := "SELECT p.id FROM projects p WHERE p.organization_id = ?"
		scopeArgs := []any{f.OrganizationID}
		if f.Account != (domain.AccountRef{}) {
			col, val, err := accountColumn(f.Account)
			if err != nil {
				return nil, err
			}
			scope += ` AND (p.id IN (SELECT project_id FROM project_members WHERE ` + col + ` = ? AND status = 'ACCEPTED')
				OR p.organization_id IN (SELECT organization_id FROM organization_members WHERE ` + col + ` = ? AND status = 'ACCEPTED'))`
			scopeArgs = append(scopeArgs, val, val)
		}
		add("d.project_id IN ("+scope+")", scopeArgs...)
		if len(f.ProjectIDs) > 0 {
			add("d.project_id IN ("+placeholders(len(f.ProjectIDs))+")", anys(f.ProjectIDs)...)
		}
	}
	if len(f.IDs) > 0 {
		add("d.id IN ("+placeholders(len(f.IDs))+")", anys(f.IDs)...)
	}
	if len(f.Types) > 0 {
		types := make([]any, len(f.Types))
		for i, t := range f.Types {
			types[i] = string(t)
		}
		add("d.type IN ("+placeholders(len(types))+")", types...)
	}
	if len(f.ProductNumbers) > 0 {
		add("d.product_number IN ("+placeholders(len(f.ProductNumbers))+")", anys(f.ProductNumbers)...)
	}
	for _, l := range f.Labels {
		expr, exprArgs := labelExpr(l.Key)
		if l.AnyValue {
			add("("+expr+") IS NOT NULL", exprArgs...)
		} else {
			add("("+expr+") = ?", append(exprArgs, l.Value)...)
		}
	}
	for _, k := range f.Keywords {
		add("instr(d.search, ?) > 0", k)
	}
	if f.EmulatedOnly {
		add("d.emulated = 1")
	}
	cmp, dir := ">", ""
	if f.Order.Desc {
		cmp, dir = "<", " DESC"
	}
	var order string
	switch f.Order.Kind {
	case domain.OrderByDisplayName:
		if !after.IsZero() {
			v, err := f.Order.CursorValue(after)
			if err != nil {
				return nil, err
			}
			add("(d.name_key, d.id) "+cmp+" (?, ?)", v, after.ID)
		}
		order = "d.name_key" + dir + ", d.id" + dir
	case domain.OrderByField:
		expr, exprArgs := orderExpr(f.Order)
		if !after.IsZero() {
			v, err := f.Order.CursorValue(after)
			if err != nil {
				return nil, err
			}
			notNull := v != nil
			if v == nil {
				v = 0
			}
			clause := "((" + expr + ") IS NOT NULL, coalesce(" + expr + ", 0), d.id) " + cmp + " (?, ?, ?)"
			add(clause, append(append(append([]any{}, exprArgs...), exprArgs...), notNull, v, after.ID)...)
		}
		order = "(" + expr + ") IS NOT NULL" + dir + ", " + expr + dir + ", d.id" + dir
		args = append(args, append(exprArgs, exprArgs...)...)
	default:
		if !after.IsZero() {
			if _, err := f.Order.CursorValue(after); err != nil {
				return nil, err
			}
			add("d.id "+cmp+" ?", after.ID)
		}
		order = "d.id" + dir
	}
	query := "SELECT " + deviceColumns + " FROM devices d"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY " + order + " LIMIT ?"
	rows, err := q.q.QueryContext(ctx, query, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]domain.Device, 0, min(limit, 128))
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (q queries) CountDevices(ctx context.Context, projectID string, offlineBefore time.Time, lowBattery int) (domain.DeviceCounts, error) {
	c := domain.DeviceCounts{ByType: map[domain.DeviceType]int{}}
	rows, err := q.q.QueryContext(ctx, `SELECT type, count(*), coalesce(sum(last_seen < ?), 0),
		coalesce(sum(json_extract(reported, '$.batteryStatus.percentage') < ?), 0)
		FROM devices WHERE project_id = ? GROUP BY type`, micros(offlineBefore), lowBattery, projectID)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		var n, offline, low int
		if err := rows.Scan(&t, &n, &offline, &low); err != nil {
			return c, err
		}
		c.ByType[domain.DeviceType(t)] = n
		c.Total += n
		c.Offline += offline
		c.LowBattery += low
	}
	return c, rows.Err()
}

// countColumn is the project column that counts devices of d's kind.
func countColumn(d domain.Device) string {
	if d.CloudConnector() {
		return "cloud_connector_count"
	}
	return "sensor_count"
}

func (t *writeTx) CreateDevice(ctx context.Context, d domain.Device) error {
	labels, err := json.Marshal(orEmpty(d.Labels))
	if err != nil {
		return err
	}
	reported, err := json.Marshal(d.Reported)
	if err != nil {
		return err
	}
	if d.Reported == nil {
		reported = []byte("{}")
	}
	_, err = t.q.ExecContext(ctx, `INSERT INTO devices (id, project_id, type, product_number, emulated, labels, name_key, search,
		reported, last_seen, create_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.ProjectID, string(d.Type), d.ProductNumber, d.Emulated, string(labels), strings.ToLower(d.Labels["name"]),
		domain.SearchText(d), string(reported), micros(d.LastSeen), micros(d.CreateTime))
	if isUnique(err) {
		return domain.Errorf(domain.ECONFLICT, "A device with this id exists.")
	}
	if err != nil {
		return err
	}
	return t.execOne(ctx, "Project", "UPDATE projects SET "+countColumn(d)+" = "+countColumn(d)+" + 1 WHERE id = ?", d.ProjectID)
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func (t *writeTx) SetDeviceLabels(ctx context.Context, d domain.Device) error {
	labels, err := json.Marshal(orEmpty(d.Labels))
	if err != nil {
		return err
	}
	return t.execOne(ctx, "Device", "UPDATE devices SET labels = ?, name_key = ?, search = ? WHERE id = ?",
		string(labels), strings.ToLower(d.Labels["name"]), domain.SearchText(d), d.ID)
}

func (t *writeTx) MoveDevice(ctx context.Context, d domain.Device, toProjectID string) error {
	if err := t.execOne(ctx, "Device", "UPDATE devices SET project_id = ? WHERE id = ? AND project_id = ?", toProjectID, d.ID, d.ProjectID); err != nil {
		return err
	}
	col := countColumn(d)
	if err := t.execOne(ctx, "Project", "UPDATE projects SET "+col+" = "+col+" - 1 WHERE id = ?", d.ProjectID); err != nil {
		return err
	}
	return t.execOne(ctx, "Project", "UPDATE projects SET "+col+" = "+col+" + 1 WHERE id = ?", toProjectID)
}

func (t *writeTx) DeleteDevice(ctx context.Context, d domain.Device) error {
	if err := t.execOne(ctx, "Device", "DELETE FROM devices WHERE id = ? AND project_id = ?", d.ID, d.ProjectID); err != nil {
		return err
	}
	col := countColumn(d)
	return t.execOne(ctx, "Project", "UPDATE projects SET "+col+" = "+col+" - 1 WHERE id = ?", d.ProjectID)
}

func (t *writeTx) SetReported(ctx context.Context, updates []domain.ReportedUpdate) error {
	for len(updates) > 0 {
		n := min(len(updates), 300)
		args := make([]any, 0, 3*n)
		for _, u := range updates[:n] {
			reported := []byte("{}")
			if u.Reported != nil {
				var err error
				if reported, err = json.Marshal(u.Reported); err != nil {
					return err
				}
			}
			args = append(args, u.ID, string(reported), micros(u.LastSeen))
		}
		// One statement for the batch's devices (UPDATE … FROM, SQLite 3.33).
		res, err := t.q.ExecContext(ctx, `UPDATE devices SET reported = v.column2, last_seen = v.column3
			FROM (VALUES `+strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", n), ", ")+`) AS v WHERE devices.id = v.column1`, args...)
		if err != nil {
			return err
		}
		if got, err := res.RowsAffected(); err != nil || got != int64(n) {
			if err == nil {
				err = domain.ErrNotFound("Device")
			}
			return err
		}
		updates = updates[n:]
	}
	return nil
}
