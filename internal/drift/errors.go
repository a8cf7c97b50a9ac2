package drift

import (
	"fmt"
	"strings"
)

// FieldError is one problem with one field of a policy object. Field uses the YAML spelling
// (spec.riskTier, spec.ownershipRules[0].controllerOwned[1].path); front ends translate it.
type FieldError struct {
	Field   string
	Message string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// ValidationError lists every problem found, so a user fixes a policy in one round.
type ValidationError struct {
	Object string // e.g. DriftException "EXC-1"
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid %s: ", e.Object)
	for i, fe := range e.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(fe.Error())
	}
	return b.String()
}

type validator struct {
	errs []FieldError
}

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) result(object string) error {
	if len(v.errs) == 0 {
		return nil
	}
	return &ValidationError{Object: object, Errors: v.errs}
}
