package provider

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// TestSchemaDocumented fails when the provider, a data source, or any of their attributes and
// blocks (nested ones included) has no Markdown description: the registry docs tfplugindocs
// writes (`make generate`) come from these descriptions, so an undocumented attribute would ship
// with an empty line in the docs. It reads the schema the way OpenTofu, Terraform and
// tfplugindocs do, through the protocol-6 GetProviderSchema.
func TestSchemaDocumented(t *testing.T) {
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		t.Fatalf("GetProviderSchema: %s: %s", d.Summary, d.Detail)
	}
	if resp.Provider == nil || resp.Provider.Block == nil {
		t.Fatal("the provider has no schema")
	}
	if len(resp.DataSourceSchemas) == 0 {
		t.Fatal("the provider has no data sources")
	}
	var missing []string
	checkBlock(&missing, "provider", resp.Provider.Block)
	names := make([]string, 0, len(resp.DataSourceSchemas))
	for name := range resp.DataSourceSchemas {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		checkBlock(&missing, "data."+name, resp.DataSourceSchemas[name].Block)
	}
	for name, s := range resp.ResourceSchemas {
		checkBlock(&missing, "resource."+name, s.Block)
	}
	if len(missing) > 0 {
		t.Errorf("%d schema elements have no MarkdownDescription (it is what the registry docs show):\n  %s",
			len(missing), strings.Join(missing, "\n  "))
	}
}

func checkBlock(missing *[]string, at string, b *tfprotov6.SchemaBlock) {
	if !markdownDescribed(b.Description, b.DescriptionKind) {
		*missing = append(*missing, at)
	}
	for _, a := range b.Attributes {
		checkAttribute(missing, at+"."+a.Name, a)
	}
	for _, nb := range b.BlockTypes {
		checkBlock(missing, at+"."+nb.TypeName, nb.Block)
	}
}

func checkAttribute(missing *[]string, at string, a *tfprotov6.SchemaAttribute) {
	if !markdownDescribed(a.Description, a.DescriptionKind) {
		*missing = append(*missing, at)
	}
	if a.NestedType != nil {
		for _, na := range a.NestedType.Attributes {
			checkAttribute(missing, at+"."+na.Name, na)
		}
	}
}

func markdownDescribed(desc string, kind tfprotov6.StringKind) bool {
	return strings.TrimSpace(desc) != "" && kind == tfprotov6.StringKindMarkdown
}

// The walker itself finds an undocumented attribute at any depth, and a plain-text description.
func TestSchemaDocumentedWalker(t *testing.T) {
	md := tfprotov6.StringKindMarkdown
	b := &tfprotov6.SchemaBlock{
		Description: "top", DescriptionKind: md,
		Attributes: []*tfprotov6.SchemaAttribute{
			{Name: "ok", Description: "fine", DescriptionKind: md},
			{Name: "plain", Description: "plain text", DescriptionKind: tfprotov6.StringKindPlain},
			{Name: "list", Description: "a list", DescriptionKind: md, NestedType: &tfprotov6.SchemaObject{
				Attributes: []*tfprotov6.SchemaAttribute{{Name: "deep", Description: " ", DescriptionKind: md}},
			}},
		},
		BlockTypes: []*tfprotov6.SchemaNestedBlock{{TypeName: "blk", Block: &tfprotov6.SchemaBlock{
			Description: "a block", DescriptionKind: md,
			Attributes: []*tfprotov6.SchemaAttribute{{Name: "inner"}},
		}}},
	}
	var missing []string
	checkBlock(&missing, "x", b)
	want := "x.plain x.list.deep x.blk.inner"
	if got := strings.Join(missing, " "); got != want {
		t.Fatalf("missing = %q, want %q", got, want)
	}
}
