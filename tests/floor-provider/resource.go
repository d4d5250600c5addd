package main

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// echo is a resource that stores what Terraform planned and does nothing else.
type echo struct {
	schema resourceSchema
}

func (r *echo) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = r.schema.typeName
}

func (r *echo) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = r.schema.schema
}

func (r *echo) Create(_ context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	store(req.Plan, &resp.State, &resp.Diagnostics)
}

func (r *echo) Update(_ context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	store(req.Plan, &resp.State, &resp.Diagnostics)
}

// Read keeps the prior state, which the framework has already put in resp.State.
func (r *echo) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

// Delete forgets: the framework drops the state when Delete reports no error.
func (r *echo) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// store sets the new state to the plan with every unknown value (a computed
// attribute the configuration left unset) replaced by null.
func store(plan tfsdk.Plan, state *tfsdk.State, diags *diag.Diagnostics) {
	known, err := tftypes.Transform(plan.Raw, func(_ *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if !v.IsKnown() {
			return tftypes.NewValue(v.Type(), nil), nil
		}
		return v, nil
	})
	if err != nil {
		diags.AddError("Cannot replace the plan's unknown values", err.Error())
		return
	}
	state.Raw = known
}
