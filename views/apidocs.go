package views

// APIReference is the readable API page (/docs/api), made from the OpenAPI
// document that GET /v2/openapi.json serves.
type APIReference struct {
	Title       string
	Version     string
	Description string
	// BaseURL is the server's public URL, for the examples.
	BaseURL string
	Groups  []APIGroup
	Schemas []APISchema
}

// APIGroup is one tag of the document: its operations.
type APIGroup struct {
	Name        string
	Description string
	Operations  []APIOperation
}

// APIOperation is one method on one path.
type APIOperation struct {
	ID          string
	Method      string
	Path        string
	Summary     string
	Description string
	// Permission is what the caller needs ("" when any caller may).
	Permission string
	// Public: no authentication. BeyondContract: not in the original's API.
	Public         bool
	BeyondContract bool
	Params         []APIField
	Body           *APIBody
	Responses      []APIResponse
}

// APIBody is a request body.
type APIBody struct {
	ContentType string
	Type        APIType
	Required    bool
	// Fields are those of an object written in place (no schema name).
	Fields []APIField
}

// APIResponse is one status of an operation.
type APIResponse struct {
	Status      string
	Description string
	Type        APIType
}

// APISchema is a named schema of the document.
type APISchema struct {
	Name        string
	Description string
	Type        APIType
	Fields      []APIField
}

// APIField is a property of an object, or a parameter (In says where).
type APIField struct {
	Name        string
	In          string
	Type        APIType
	Required    bool
	Description string
	// Rules says what values are allowed (one of, pattern, range).
	Rules string
}

// APIType is a type as the page writes it, with links to the named
// schemas it mentions.
type APIType struct {
	Parts []APITypePart
}

// APITypePart is text, or a schema name (Ref) to link.
type APITypePart struct {
	Text string
	Ref  string
}

// SchemaAnchor is the id of a schema's section on the page.
func SchemaAnchor(name string) string { return "schema-" + name }
