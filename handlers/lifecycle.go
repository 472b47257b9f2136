package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"studio/domain"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// Credential lifecycle pages and forms (issue 8): rotate, disable and
// enable keys and accounts, report a compromised key, the organization's
// key lifetime policy and the purge of expired keys.

// keyOptions reads the create form's expiry choice: "" for the
// organization's default, "never", or a number of days such as "90d".
func keyOptions(choice string, now time.Time) (domain.KeyOptions, error) {
	switch choice = strings.TrimSpace(choice); choice {
	case "":
		return domain.KeyOptions{}, nil
	case "never":
		return domain.KeyOptions{Never: true}, nil
	}
	d, err := domain.ParseLifetime(choice)
	if err != nil {
		return domain.KeyOptions{}, domain.FieldError("expires", "Choose when the key expires.")
	}
	return domain.KeyOptions{ExpireTime: now.Add(d)}, nil
}

// rotationGraces are the grace periods the rotate form offers.
var rotationGraces = map[string]time.Duration{"now": 0, "1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour}

// authorizeAccount asks the service whether the viewer may do op on the
// page's account, before any input is read.
func (h *Handlers) authorizeAccount(c echo.Context, op domain.Operation) error {
	return h.serviceAccounts.Authorize(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), op)
}

// RotateKey makes a new key (its secret shown once, as at creation) and
// gives the old one the chosen grace period.
func (h *Handlers) RotateKey(c echo.Context) error {
	grace, ok := rotationGraces[c.FormValue("grace")]
	if !ok {
		// Who may not rotate learns nothing of the form.
		if err := h.authorizeAccount(c, domain.OpKeyRotate); err != nil {
			return err
		}
		return h.renderKeys(c, nil, nil, domain.FieldError("grace", "Choose how long the old key keeps working: 1 hour, 24 hours, 7 days or not at all."))
	}
	var o domain.AccountOverview
	rot, err := h.serviceAccounts.RotateKey(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), c.Param("key"), grace, refresh(&o))
	switch {
	case isInvalid(err):
		return h.renderKeys(c, nil, nil, err)
	case err != nil:
		return err
	}
	old := rot.Old
	return h.renderKeys(c, &o, &views.NewKeyDialog{KeyID: rot.New.ID, Secret: rot.Secret, ExpireTime: rot.New.ExpireTime, Rotated: &old}, nil)
}

// DisableKey disables a key: refused on its next request, tokens included.
func (h *Handlers) DisableKey(c echo.Context) error { return h.setKeyDisabled(c, true) }

// EnableKey enables a disabled key again.
func (h *Handlers) EnableKey(c echo.Context) error { return h.setKeyDisabled(c, false) }

func (h *Handlers) setKeyDisabled(c echo.Context, disabled bool) error {
	if err := h.authorizeAccount(c, domain.OpKeyDisable); err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		return domain.FieldError("confirm", "Confirm the change of the key.")
	}
	var o domain.AccountOverview
	k, err := h.serviceAccounts.SetKeyDisabled(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), c.Param("key"), disabled,
		refreshFragment(c, &o)...)
	if err != nil {
		return err
	}
	msg := "Key " + k.ID + " is enabled again."
	if disabled {
		msg = "Key " + k.ID + " is disabled: programs using it are refused."
	}
	return h.afterAccountChange(c, msg, o, views.AccountKeys)
}

// ReportCompromisedPage shows what the key can reach and asks why it is reported.
func (h *Handlers) ReportCompromisedPage(c echo.Context) error {
	return h.renderCompromiseForm(c, http.StatusOK, "", nil)
}

func (h *Handlers) renderCompromiseForm(c echo.Context, status int, reason string, errs map[string]string) error {
	a, err := h.loadAccount(c)
	if err != nil {
		return err
	}
	if err := a.View.Access.Authorize(domain.OpKeyReportCompromised); err != nil {
		return err
	}
	k, err := h.serviceAccounts.GetKey(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), c.Param("key"))
	if err != nil {
		return err
	}
	return render(c, status, views.ReportCompromised(h.accountPage(c, a), views.CompromiseForm{Account: a, Key: k, Reason: reason, Errors: errs}))
}

// ReportCompromised disables the key at once, records the report with its
// reason, and shows what the key could reach.
func (h *Handlers) ReportCompromised(c echo.Context) error {
	// The service refuses who may not report before it reads the reason.
	reason := c.FormValue("reason")
	var o domain.AccountOverview
	rep, err := h.serviceAccounts.ReportKeyCompromised(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), c.Param("key"), reason,
		refresh(&o))
	if isInvalid(err) {
		errs := domain.FieldErrors(err)
		if len(errs) == 0 {
			errs = map[string]string{"reason": domain.ErrorMessage(err)}
		}
		return h.renderCompromiseForm(c, http.StatusUnprocessableEntity, reason, errs)
	}
	if err != nil {
		return err
	}
	a := h.accountPageOf(o)
	Logger(c).Warn("key reported compromised", "key_id", rep.Key.ID, "service_account_id", rep.Account.ID)
	return render(c, http.StatusOK, views.CompromiseDone(h.accountPage(c, a), a, rep))
}

// DisableServiceAccount disables a whole account: every key and token refused.
func (h *Handlers) DisableServiceAccount(c echo.Context) error { return h.setAccountDisabled(c, true) }

// EnableServiceAccount enables a disabled account again.
func (h *Handlers) EnableServiceAccount(c echo.Context) error { return h.setAccountDisabled(c, false) }

func (h *Handlers) setAccountDisabled(c echo.Context, disabled bool) error {
	if err := h.authorizeAccount(c, domain.OpServiceAccountUpdate); err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		return domain.FieldError("confirm", "Confirm the change of the account.")
	}
	sa, err := h.serviceAccounts.SetAccountDisabled(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), disabled)
	if err != nil {
		return err
	}
	msg := "“" + sa.DisplayName + "” is enabled again: its working keys are accepted."
	if disabled {
		msg = "“" + sa.DisplayName + "” is disabled: all its keys and tokens are refused."
	}
	h.setFlash(c, "success", msg)
	return redirect(c, accountURL(sa))
}

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

// SupportDisableServiceAccount disables a service account, with a reason.
func (h *Handlers) SupportDisableServiceAccount(c echo.Context) error {
	return h.supportSetDisabled(c, true)
}

// SupportEnableServiceAccount enables a disabled service account, with a reason.
func (h *Handlers) SupportEnableServiceAccount(c echo.Context) error {
	return h.supportSetDisabled(c, false)
}

func (h *Handlers) supportSetDisabled(c echo.Context, disabled bool) error {
	return h.supportAction(c, views.SupportFormAccountState,
		func(ctx context.Context, p domain.Principal, acct domain.SupportAccount, reason string) (string, error) {
			if err := h.support.SetServiceAccountDisabled(ctx, p, acct.Summary.Account.ID, disabled, reason); err != nil {
				return "", err
			}
			if disabled {
				return acct.Summary.Email + " is disabled: all its keys and tokens are refused.", nil
			}
			return acct.Summary.Email + " is enabled again.", nil
		})
}

// SupportDisableKey disables one key of a service account, with a reason.
func (h *Handlers) SupportDisableKey(c echo.Context) error { return h.supportSetKeyDisabled(c, true) }

// SupportEnableKey enables a disabled key again, with a reason.
func (h *Handlers) SupportEnableKey(c echo.Context) error { return h.supportSetKeyDisabled(c, false) }

func (h *Handlers) supportSetKeyDisabled(c echo.Context, disabled bool) error {
	keyID := c.Param("key")
	return h.supportAction(c, views.SupportFormKeyState(keyID),
		func(ctx context.Context, p domain.Principal, acct domain.SupportAccount, reason string) (string, error) {
			if err := h.support.SetKeyDisabled(ctx, p, acct.Summary.Account.ID, keyID, disabled, reason); err != nil {
				return "", err
			}
			if disabled {
				return "Key " + keyID + " of " + acct.Summary.Email + " is disabled.", nil
			}
			return "Key " + keyID + " of " + acct.Summary.Email + " is enabled again.", nil
		})
}
