package domain

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Device is a sensor or cloud connector in a project. An emulated device
// (made by the emulator) has an id of "emu" and 20 characters: the
// original's clients tell emulated devices by that prefix and length.
type Device struct {
	ID            string
	ProjectID     string
	Type          DeviceType
	ProductNumber string // "" when unknown
	// Labels are the device's labels; "name" is its display name, and a
	// key-only label holds "".
	Labels   map[string]string
	Reported Reported
	Emulated bool
	// LastSeen is the time of its latest event (zero: none yet).
	LastSeen   time.Time
	CreateTime time.Time
}

// Reported holds the latest body of each event type a device emitted.
type Reported map[EventType]json.RawMessage

// DisplayName is the device's name label, or its id when it has none.
func (d Device) DisplayName() string {
	if n := d.Labels["name"]; n != "" {
		return n
	}
	return d.ID
}

// CloudConnector reports whether the device counts as a cloud connector.
func (d Device) CloudConnector() bool {
	info, _ := LookupDeviceType(d.Type)
	return info.CloudConnector
}

// ReportedJSON is the device's reported as the API writes it: one key per
// event type its type emits, null before the first event of that type.
func (d Device) ReportedJSON() json.RawMessage {
	info, _ := LookupDeviceType(d.Type)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, et := range info.Reported {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(string(et)))
		b.WriteByte(':')
		if body, ok := d.Reported[et]; ok && len(body) > 0 {
			b.Write(body)
		} else {
			b.WriteString("null")
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

// EmulatedIDPrefix starts the id of every emulated device.
const EmulatedIDPrefix = "emu"

// NewEmulatedDeviceID returns a new emulated device id: "emu" and 20 characters.
func NewEmulatedDeviceID(now time.Time) string { return EmulatedIDPrefix + NewID(now) }

// ValidDeviceID reports whether s has the shape of a device id.
func ValidDeviceID(s string) bool {
	return ValidID(s) || (strings.HasPrefix(s, EmulatedIDPrefix) && ValidID(s[len(EmulatedIDPrefix):]))
}

// VirtualSensorLabel is the system label every emulated device gets.
const VirtualSensorLabel = "virtual-sensor"

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func (f LabelFilter) matches(labels map[string]string) bool {
	v, ok := labels[f.Key]
	return ok && (f.AnyValue || v == f.Value)
}

// DeviceOrderKind says how a device list is sorted.
type DeviceOrderKind int

const (
	// OrderByID sorts by device id (the API's default).
	OrderByID DeviceOrderKind = iota
	// OrderByDisplayName sorts by the name label, case-insensitively (the console's).
	OrderByDisplayName
	// OrderByField sorts by a field of the device resource (order_by).
	OrderByField
)

// DeviceOrder is the sort of a device list; ties go by id.
type DeviceOrder struct {
	Kind DeviceOrderKind
	// Field is the dot path of OrderByField: "type", "productNumber",
	// "labels.<key>" or "reported.<eventType>.<field>[.<field>…]".
	Field string
	Desc  bool
}

// ParseOrderBy reads order_by: a dot path of the device resource, with a
// leading "-" for descending order. "name" is the resource name (the id).
func ParseOrderBy(s string) (DeviceOrder, error) {
	o := DeviceOrder{}
	if strings.HasPrefix(s, "-") {
		o.Desc, s = true, s[1:]
	}
	bad := FieldError("order_by", "order_by takes name, type, productNumber, labels.<key> or reported.<eventType>.<field>, with - in front for descending order.")
	switch {
	case s == "" && !o.Desc:
		return o, nil
	case s == "name" || s == "id":
		return o, nil
	case s == "type" || s == "productNumber":
		o.Kind, o.Field = OrderByField, s
		return o, nil
	case strings.HasPrefix(s, "labels."):
		if CheckLabelKey("order_by", s[len("labels."):]) != nil {
			return o, bad
		}
		o.Kind, o.Field = OrderByField, s
		return o, nil
	case strings.HasPrefix(s, "reported."):
		parts := strings.Split(s, ".")
		if len(parts) < 3 || len(parts) > 6 || !KnownEventType(EventType(parts[1])) {
			return o, bad
		}
		for _, p := range parts[2:] {
			if p == "" || len(p) > 64 || strings.IndexFunc(p, func(r rune) bool { return !(r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r))) }) >= 0 {
				return o, bad
			}
		}
		o.Kind, o.Field = OrderByField, s
		return o, nil
	}
	return o, bad
}

// SortValue is d's value of the order's field as the store sorts it: a
// float64, a string, or nil when absent (booleans count as 1 and 0).
func (o DeviceOrder) SortValue(d Device) any {
	switch {
	case o.Field == "type":
		return string(d.Type)
	case o.Field == "productNumber":
		return d.ProductNumber
	case strings.HasPrefix(o.Field, "labels."):
		if v, ok := d.Labels[o.Field[len("labels."):]]; ok {
			return v
		}
		return nil
	case strings.HasPrefix(o.Field, "reported."):
		parts := strings.Split(o.Field, ".")
		raw := d.Reported[EventType(parts[1])]
		if len(raw) == 0 {
			return nil
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if dec.Decode(&v) != nil {
			return nil
		}
		for _, p := range parts[2:] {
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[p]
		}
		switch x := v.(type) {
		case json.Number:
			f, _ := x.Float64()
			return f
		case string:
			return x
		case bool:
			if x {
				return 1.0
			}
			return 0.0
		case nil:
			return nil
		default:
			b, _ := json.Marshal(x)
			return string(b)
		}
	}
	return nil
}

// cursor is the keyset position of d in the order. Its key starts with
// the order, so a page token of one order is refused by another.
func (o DeviceOrder) cursor(d Device) Cursor {
	switch o.Kind {
	case OrderByDisplayName:
		return Cursor{Key: o.prefix() + strings.ToLower(d.Labels["name"]), ID: d.ID}
	case OrderByField:
		b, _ := json.Marshal(o.SortValue(d))
		return Cursor{Key: o.prefix() + string(b), ID: d.ID}
	}
	return Cursor{Key: o.prefix(), ID: d.ID}
}

func (o DeviceOrder) prefix() string {
	p := ""
	if o.Desc {
		p = "-"
	}
	switch o.Kind {
	case OrderByDisplayName:
		return p + "displayName="
	case OrderByField:
		return p + o.Field + "="
	}
	return p + "id"
}

// CursorValue checks that a cursor belongs to this order and reads the
// sort value it holds: the lower-cased name of OrderByDisplayName; a
// float64, a string or nil of OrderByField; nil of OrderByID.
func (o DeviceOrder) CursorValue(c Cursor) (any, error) {
	bad := FieldError("pageToken", "The page token is not valid (or belongs to another order).")
	rest, ok := strings.CutPrefix(c.Key, o.prefix())
	if !ok || !ValidDeviceID(c.ID) {
		return nil, bad
	}
	switch o.Kind {
	case OrderByDisplayName:
		return rest, nil
	case OrderByField:
		var v any
		if err := json.Unmarshal([]byte(rest), &v); err != nil {
			return nil, bad
		}
		switch v.(type) {
		case nil, float64, string:
			return v, nil
		}
		return nil, bad
	}
	if rest != "" {
		return nil, bad
	}
	return nil, nil
}

// DeviceFilter selects the devices of a list.
type DeviceFilter struct {
	// ProjectID is the one project listed; "" with OrganizationID lists
	// the organization's projects that Account may read (every one for
	// the zero AccountRef), optionally only ProjectIDs among them.
	ProjectID      string
	OrganizationID string
	Account        AccountRef
	ProjectIDs     []string

	IDs            []string
	Types          []DeviceType
	ProductNumbers []string
	Labels         []LabelFilter
	// Keywords must each appear (case-insensitively) in the device's id,
	// type, product number or labels.
	Keywords     []string
	EmulatedOnly bool
	Order        DeviceOrder
}

// DeviceQuery is a device list request as the API and the console take it.
type DeviceQuery struct {
	Query          string
	DeviceIDs      []string
	DeviceTypes    []string
	ProductNumbers []string
	LabelFilters   []string
	OrderBy        string
	// For the "-" project: the organization (required) and, optionally,
	// the projects within it.
	OrganizationID string
	ProjectIDs     []string
	// ByDisplayName sorts by name label (the console), instead of OrderBy.
	ByDisplayName bool
}

// MaxFilterValues bounds each list of values of a device filter.
const MaxFilterValues = 1000

// filter checks a query and turns it into the store's filter.
func (q DeviceQuery) filter() (DeviceFilter, error) {
	var f DeviceFilter
	if len(q.DeviceIDs) > MaxFilterValues || len(q.DeviceTypes) > MaxFilterValues || len(q.ProductNumbers) > MaxFilterValues ||
		len(q.ProjectIDs) > MaxFilterValues {
		return f, Errorf(EINVALID, "A filter takes at most %d values.", MaxFilterValues)
	}
	if len(q.Query) > 256 {
		return f, FieldError("query", "The search text is too long.")
	}
	f.Keywords = strings.Fields(strings.ToLower(q.Query))
	for _, id := range q.DeviceIDs {
		if !ValidDeviceID(id) {
			return f, FieldError("device_ids", "device_ids holds "+strconv.Quote(shorten(id, 40))+", which is not a device id.")
		}
		f.IDs = append(f.IDs, id)
	}
	for _, t := range q.DeviceTypes {
		if _, ok := LookupDeviceType(DeviceType(t)); !ok {
			return f, FieldError("device_types", "device_types holds "+strconv.Quote(shorten(t, 40))+", which is not a device type.")
		}
		f.Types = append(f.Types, DeviceType(t))
	}
	for _, pn := range q.ProductNumbers {
		if len(pn) > 64 {
			return f, FieldError("product_numbers", "A product number has at most 64 characters.")
		}
		f.ProductNumbers = append(f.ProductNumbers, pn)
	}
	labels, err := ParseLabelFilters(q.LabelFilters)
	if err != nil {
		return f, err
	}
	f.Labels = labels
	if f.Order, err = ParseOrderBy(q.OrderBy); err != nil {
		return f, err
	}
	if q.ByDisplayName {
		f.Order = DeviceOrder{Kind: OrderByDisplayName}
	}
	return f, nil
}

// listing names the filter's listing, for its page tokens.
func (f DeviceFilter) listing() string {
	parts := []string{f.ProjectID, f.OrganizationID, string(f.Account.Type), f.Account.ID, strings.Join(f.ProjectIDs, ","),
		strings.Join(f.IDs, ","), strings.Join(f.ProductNumbers, ","), strings.Join(f.Keywords, " "), strconv.FormatBool(f.EmulatedOnly),
		f.Order.prefix()}
	for _, t := range f.Types {
		parts = append(parts, string(t))
	}
	for _, l := range f.Labels {
		parts = append(parts, "label:"+l.String())
	}
	return Listing("devices", parts...)
}

// Matches reports whether the filter selects d (its project aside): the
// same rules as the store's, for the devices an event stream follows.
func (f DeviceFilter) matchesDevice(id string, t DeviceType, productNumber string, labels map[string]string) bool {
	if len(f.IDs) > 0 && !containsString(f.IDs, id) {
		return false
	}
	if len(f.Types) > 0 && !containsType(f.Types, t) {
		return false
	}
	if len(f.ProductNumbers) > 0 && !containsString(f.ProductNumbers, productNumber) {
		return false
	}
	for _, l := range f.Labels {
		if !l.matches(labels) {
			return false
		}
	}
	return true
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsType(list []DeviceType, t DeviceType) bool {
	for _, x := range list {
		if x == t {
			return true
		}
	}
	return false
}

// SearchText is what keywords are matched against: the id, type, product
// number and every label key and value, lower-cased.
func SearchText(d Device) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(d.ID + " " + string(d.Type) + " " + d.ProductNumber))
	keys := make([]string, 0, len(d.Labels))
	for k := range d.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(" " + strings.ToLower(k) + " " + strings.ToLower(d.Labels[k]))
	}
	return b.String()
}

// DeviceCounts are a project's devices counted for its dashboard.
type DeviceCounts struct {
	Total  int
	ByType map[DeviceType]int
	// Offline devices sent no event within OfflineAfter (or never did).
	Offline int
	// LowBattery devices last reported less than LowBatteryPercent.
	LowBattery int
}

// Dashboard thresholds.
const (
	OfflineAfter      = time.Hour
	LowBatteryPercent = 20
)

// ReportedUpdate is a device's new reported and the time of its latest event.
type ReportedUpdate struct {
	ID       string
	Reported Reported
	LastSeen time.Time
}

// DeviceReader looks devices up.
type DeviceReader interface {
	// DeviceByID returns a device of any project.
	DeviceByID(ctx context.Context, id string) (Device, error)
	// DevicesByIDs returns the devices of those ids that exist, in any order.
	DevicesByIDs(ctx context.Context, ids []string) ([]Device, error)
	// ListDevices lists devices in the filter's order, after the cursor.
	ListDevices(ctx context.Context, f DeviceFilter, after Cursor, limit int) ([]Device, error)
	// CountDevices counts a project's devices by type, those without an
	// event since offlineBefore and those whose battery is below lowBattery.
	CountDevices(ctx context.Context, projectID string, offlineBefore time.Time, lowBattery int) (DeviceCounts, error)
}

// DeviceWriter changes devices. The project's sensorCount and
// cloudConnectorCount change with them, in the same transaction.
type DeviceWriter interface {
	CreateDevice(ctx context.Context, d Device) error
	// SetDeviceLabels writes d's labels.
	SetDeviceLabels(ctx context.Context, d Device) error
	// MoveDevice moves d to another project; its events follow it.
	MoveDevice(ctx context.Context, d Device, toProjectID string) error
	// DeleteDevice deletes d with its events.
	DeleteDevice(ctx context.Context, d Device) error
	// SetReported stores devices' reported and the times of their latest
	// events, in one statement however many devices.
	SetReported(ctx context.Context, updates []ReportedUpdate) error
}
