package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

type diagDiags = diag.Diagnostics

func pathRoot(name string) path.Path { return path.Root(name) }
