package handlers

import (
	"net/http"

	"studio/domain"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// NewOrganizationPage shows support staff the form that creates an organization.
func (h *Handlers) NewOrganizationPage(c echo.Context) error {
	if err := h.members.CanCreateOrganization(principal(c)); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.NewOrganization(h.page(c, "Create an organization"), views.NewOrganizationForm{}))
}

// CreateOrganization makes the organization and its first admin. A first
// admin who must accept gets an invite link, shown in this response only;
// otherwise the console says it is done and goes back to the support console.
func (h *Handlers) CreateOrganization(c echo.Context) error {
	in := domain.NewOrganization{Name: c.FormValue("name"), AdminEmail: c.FormValue("adminEmail")}
	created, err := h.members.CreateOrganization(c.Request().Context(), principal(c), in)
	if isFormError(err) || cannotSave(c, err) {
		return render(c, formStatus(err), views.NewOrganization(h.page(c, "Create an organization"),
			views.NewOrganizationForm{Name: in.Name, AdminEmail: in.AdminEmail, Errors: formErrors(err)}))
	}
	if err != nil {
		return err
	}
	Logger(c).Info("organization created", "organization_id", created.Organization.ID)
	if created.Admin.InviteURL != "" {
		noStore(c)
		c.Response().Header().Set("HX-Replace-Url", views.SupportURL)
		return render(c, http.StatusOK, views.OrganizationCreated(h.page(c, created.Organization.DisplayName+" is created"), created))
	}
	h.setFlash(c, "success", created.Organization.DisplayName+" is created; "+created.Admin.Membership.AccountEmail+
		" is its organization admin.")
	return redirect(c, views.SupportURL)
}
