package edit

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// moduleStep is one module call on the way to a resource: module.<Name>[<Key>].
type moduleStep struct {
	Name   string
	Keyed  bool
	Key    string
	KeyNum bool
}

// resourceAddress is a parsed OpenTofu resource instance address.
type resourceAddress struct {
	Modules    []moduleStep
	Data       bool
	Type, Name string
	Keyed      bool
	Key        string
}

func (a resourceAddress) blockType() string {
	if a.Data {
		return "data"
	}
	return "resource"
}

// parseAddress reads an address the way OpenTofu does — as an absolute HCL traversal — so quoted
// keys with dots or brackets (module.a["x.y"]) are taken as keys, not as more steps.
func parseAddress(s string) (resourceAddress, error) {
	var a resourceAddress
	if s == "" {
		return a, errors.New("edit: empty resource address")
	}
	trav, diags := hclsyntax.ParseTraversalAbs([]byte(s), "address", hcl.Pos{Line: 1, Column: 1, Byte: 0})
	if diags.HasErrors() {
		return a, fmt.Errorf("edit: resource address %q: %s", s, diags.Error())
	}
	i := 0
	name := func() (string, bool) {
		if i >= len(trav) {
			return "", false
		}
		switch st := trav[i].(type) {
		case hcl.TraverseRoot:
			i++
			return st.Name, true
		case hcl.TraverseAttr:
			i++
			return st.Name, true
		}
		return "", false
	}
	key := func() (bool, string, bool, error) {
		if i >= len(trav) {
			return false, "", false, nil
		}
		st, ok := trav[i].(hcl.TraverseIndex)
		if !ok {
			return false, "", false, nil
		}
		i++
		switch {
		case st.Key.Type() == cty.String && st.Key.IsKnown() && !st.Key.IsNull():
			return true, st.Key.AsString(), false, nil
		case st.Key.Type() == cty.Number && st.Key.IsKnown() && !st.Key.IsNull():
			bf := st.Key.AsBigFloat()
			if !bf.IsInt() || bf.Sign() < 0 || bf.Cmp(big.NewFloat(1<<31)) >= 0 {
				return false, "", false, fmt.Errorf("edit: resource address %q: index %s is not a small whole number", s, bf.Text('g', -1))
			}
			n, _ := bf.Int64()
			return true, fmt.Sprint(n), true, nil
		}
		return false, "", false, fmt.Errorf("edit: resource address %q: bad index", s)
	}
	for {
		n, ok := name()
		if !ok {
			return a, fmt.Errorf("edit: resource address %q is incomplete", s)
		}
		if n != "module" {
			if n == "data" {
				a.Data = true
				if n, ok = name(); !ok {
					return a, fmt.Errorf("edit: resource address %q is incomplete", s)
				}
			}
			a.Type = n
			if a.Name, ok = name(); !ok {
				return a, fmt.Errorf("edit: resource address %q has no resource name", s)
			}
			k, kv, _, err := key()
			if err != nil {
				return a, err
			}
			a.Keyed, a.Key = k, kv
			if i != len(trav) {
				return a, fmt.Errorf("edit: resource address %q has trailing parts", s)
			}
			return a, nil
		}
		mn, ok := name()
		if !ok {
			return a, fmt.Errorf("edit: resource address %q: module without a name", s)
		}
		k, kv, num, err := key()
		if err != nil {
			return a, err
		}
		a.Modules = append(a.Modules, moduleStep{Name: mn, Keyed: k, Key: kv, KeyNum: num})
	}
}
