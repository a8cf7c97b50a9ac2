package tofuplan

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// A refresh-only plan without drift still names every managed resource for the policy rules.
func TestResourcesFromRealPlanWithoutDrift(t *testing.T) {
	p, err := ReadFile(filepath.Join("testdata", "clean-refresh-only.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Observations) != 0 {
		t.Fatalf("a clean plan has no drift: %+v", p.Observations)
	}
	res, err := p.Resources()
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Ref != "local_file.conf" || res[0].Type != "local_file" {
		t.Fatalf("got %+v", res)
	}
	v, _ := res[0].Actual.(map[string]any)
	if v["file_permission"] == nil {
		t.Errorf("values missing: %v", v)
	}
}

// Sensitive values of the prior state are redacted and their paths listed; data sources and
// child modules are handled; an empty state has no resources.
func TestResourcesRedactsAndWalksModules(t *testing.T) {
	plan := `{"format_version":"1.2","planned_values":{"root_module":{}},"configuration":{"root_module":{}},
	"prior_state":{"format_version":"1.0","values":{"root_module":{
	  "resources":[
	    {"address":"aws_db_instance.db","mode":"managed","type":"aws_db_instance","values":{"password":"hunter2-clear","storage_encrypted":false},"sensitive_values":{"password":true}},
	    {"address":"data.aws_ami.a","mode":"data","type":"aws_ami","values":{"id":"ami-1"}}],
	  "child_modules":[{"address":"module.m","resources":[
	    {"address":"module.m.local_file.f","mode":"managed","type":"local_file","values":{"file_permission":"0644"},"sensitive_values":{}}]}]}}}}`
	p, err := Read("plan.json", []byte(plan))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Resources()
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Ref != "aws_db_instance.db" || res[1].Ref != "module.m.local_file.f" {
		t.Fatalf("got %+v", res)
	}
	if len(res[0].SensitivePaths) != 1 || res[0].SensitivePaths[0].String() != "/password" {
		t.Errorf("sensitive paths: %v", res[0].SensitivePaths)
	}
	b, _ := json.Marshal([]any{res[0].Actual, res[0].Recorded})
	if strings.Contains(string(b), "hunter2") {
		t.Errorf("the clear value survived: %s", b)
	}

	empty := strings.Replace(plan, `"prior_state":{`, `"prior_state_gone":{`, 1)
	p, err = Read("plan.json", []byte(empty))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := p.Resources(); err != nil || len(res) != 0 {
		t.Errorf("no prior state: %v %v", res, err)
	}
	bad := strings.Replace(plan, `"sensitive_values":{"password":true}`, `"sensitive_values":"x"`, 1)
	if p, err = Read("plan.json", []byte(bad)); err == nil {
		if _, err := p.Resources(); err != nil && !strings.Contains(err.Error(), "plan.json") {
			t.Errorf("error does not name the file: %v", err)
		}
	}
}
