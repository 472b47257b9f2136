package handlers

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"studio/domain"
	"studio/views"
	"time"

	"github.com/labstack/echo/v4"
)

// An organization's settings: its key lifetime policy and the purge of
// expired keys.

// expiredShown bounds the expired keys the settings page lists.
const expiredShown = 100

// OrgSettings shows an organization's key lifetime policy and its expired keys.
func (h *Handlers) OrgSettings(c echo.Context) error {
	return h.renderOrgSettings(c, http.StatusOK, nil, nil)
}

func (h *Handlers) renderOrgSettings(c echo.Context, status int, typed map[string]string, errs map[string]string) error {
	ctx, p := c.Request().Context(), principal(c)
	v, err := h.serviceAccounts.KeyPolicy(ctx, p, c.Param("org"))
	if err != nil {
		return err
	}
	expired, err := h.serviceAccounts.ExpiredKeys(ctx, p, v.Organization.ID, expiredShown+1)
	if err != nil {
		return err
	}
	s := views.OrgSettingsPage{Org: v.Organization, Policy: v.Policy, Errors: errs, Expired: expired,
		DefaultDays: lifetimeDays(v.Policy.DefaultLifetime), MaxDays: lifetimeDays(v.Policy.MaxLifetime)}
	if len(expired) > expiredShown {
		s.Expired, s.MoreExpired = expired[:expiredShown], true
	}
	if typed != nil {
		s.DefaultDays, s.MaxDays = typed["defaultDays"], typed["maxDays"]
	}
	page := h.page(c, "Organization settings")
	page.Org, page.OrgAdm = &v.Organization, true
	return render(c, status, views.OrgSettings(page, s))
}

func lifetimeDays(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return strconv.Itoa(int((d + 24*time.Hour - 1) / (24 * time.Hour)))
}

// parseDays reads a lifetime in days from a form field: empty is none.
func parseDays(field, s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 3650 {
		return 0, domain.FieldError(field, "Enter a whole number of days between 1 and 3650, or leave it empty.")
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

// SaveOrgSettings sets the organization's default and maximum key lifetime.
func (h *Handlers) SaveOrgSettings(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	// Refuse who may not change the settings before reading the form.
	if _, err := h.serviceAccounts.KeyPolicy(ctx, p, c.Param("org")); err != nil {
		return err
	}
	params, err := c.FormParams()
	if err != nil {
		return err
	}
	if _, ok := params["defaultDays"]; !ok {
		return domain.FieldError("defaultDays", "Send the settings form with both lifetimes (empty for none).")
	}
	typed := map[string]string{"defaultDays": params.Get("defaultDays"), "maxDays": params.Get("maxDays")}
	errs := map[string]string{}
	def, err := parseDays("defaultDays", typed["defaultDays"])
	if err != nil {
		errs["defaultDays"] = domain.ErrorMessage(err)
	}
	max, err := parseDays("maxDays", typed["maxDays"])
	if err != nil {
		errs["maxDays"] = domain.ErrorMessage(err)
	}
	if len(errs) == 0 {
		_, err = h.serviceAccounts.SetKeyPolicy(ctx, p, c.Param("org"), def, max)
		if isInvalid(err) {
			for field, msg := range domain.FieldErrors(err) {
				errs[map[string]string{"defaultLifetime": "defaultDays", "maxLifetime": "maxDays"}[field]] = msg
			}
		} else if err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		return h.renderOrgSettings(c, http.StatusUnprocessableEntity, typed, errs)
	}
	h.setFlash(c, "success", fmt.Sprintf("Key lifetime saved: default %s, maximum %s.", domain.FormatLifetime(def), domain.FormatLifetime(max)))
	return redirect(c, "/orgs/"+c.Param("org")+"/settings")
}

// PurgeExpiredKeys deletes the organization's expired keys once confirmed.
func (h *Handlers) PurgeExpiredKeys(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	if _, err := h.serviceAccounts.KeyPolicy(ctx, p, c.Param("org")); err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		return domain.FieldError("confirm", "Confirm the deletion of the expired keys.")
	}
	n, err := h.serviceAccounts.PurgeExpiredKeys(ctx, p, c.Param("org"))
	if err != nil {
		return err
	}
	msg := "No expired keys to delete."
	if n > 0 {
		msg = fmt.Sprintf("%d expired key%s deleted.", n, map[bool]string{true: "", false: "s"}[n == 1])
	}
	h.setFlash(c, "success", msg)
	return redirect(c, "/orgs/"+c.Param("org")+"/settings")
}
