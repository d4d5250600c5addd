package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// The JSON of `terraform providers schema -json`, as far as resources go
// (https://developer.hashicorp.com/terraform/cli/commands/providers/schema).
type schemasJSON struct {
	ProviderSchemas map[string]struct {
		ResourceSchemas map[string]struct {
			Version int64     `json:"version"`
			Block   blockJSON `json:"block"`
		} `json:"resource_schemas"`
	} `json:"provider_schemas"`
}

type blockJSON struct {
	Attributes      map[string]attributeJSON `json:"attributes"`
	BlockTypes      map[string]blockTypeJSON `json:"block_types"`
	Description     string                   `json:"description"`
	DescriptionKind string                   `json:"description_kind"`
	Deprecated      bool                     `json:"deprecated"`
}

type blockTypeJSON struct {
	NestingMode string    `json:"nesting_mode"`
	Block       blockJSON `json:"block"`
}

type attributeJSON struct {
	Type            json.RawMessage `json:"type"`
	NestedType      *nestedJSON     `json:"nested_type"`
	Description     string          `json:"description"`
	DescriptionKind string          `json:"description_kind"`
	Deprecated      bool            `json:"deprecated"`
	Required        bool            `json:"required"`
	Optional        bool            `json:"optional"`
	Computed        bool            `json:"computed"`
	Sensitive       bool            `json:"sensitive"`
}

type nestedJSON struct {
	NestingMode string                   `json:"nesting_mode"`
	Attributes  map[string]attributeJSON `json:"attributes"`
}

// resourceSchema is one resource type to serve.
type resourceSchema struct {
	typeName string
	schema   schema.Schema
}

// loadSchemas reads every resource schema of every provider in the file.
func loadSchemas(path string) ([]resourceSchema, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc schemasJSON
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []resourceSchema
	for _, p := range doc.ProviderSchemas {
		for name, r := range p.ResourceSchemas {
			attrs, err := attributes(r.Block.Attributes, name)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			blocks, err := blocks(r.Block.BlockTypes, name)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			s := schema.Schema{Version: r.Version, Attributes: attrs, Blocks: blocks}
			s.Description, s.MarkdownDescription = describe(r.Block.Description, r.Block.DescriptionKind)
			if r.Block.Deprecated {
				s.DeprecationMessage = "deprecated"
			}
			out = append(out, resourceSchema{typeName: name, schema: s})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].typeName < out[j].typeName })
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no resource_schemas", path)
	}
	return out, nil
}

// flags are the properties every attribute kind shares.
type flags struct {
	required, optional, computed, sensitive bool
	description, markdown, deprecation      string
}

func flagsOf(a attributeJSON) flags {
	f := flags{required: a.Required, optional: a.Optional, computed: a.Computed, sensitive: a.Sensitive}
	f.description, f.markdown = describe(a.Description, a.DescriptionKind)
	if a.Deprecated {
		f.deprecation = "deprecated"
	}
	return f
}

func describe(text, kind string) (plain, markdown string) {
	if kind == "markdown" {
		return "", text
	}
	return text, ""
}

func attributes(in map[string]attributeJSON, at string) (map[string]schema.Attribute, error) {
	out := make(map[string]schema.Attribute, len(in))
	for name, a := range in {
		converted, err := attribute(a, at+"."+name)
		if err != nil {
			return nil, err
		}
		out[name] = converted
	}
	return out, nil
}

// attribute converts one attribute; at is its path, for errors.
func attribute(a attributeJSON, at string) (schema.Attribute, error) {
	f := flagsOf(a)
	if a.NestedType != nil {
		return nestedAttribute(*a.NestedType, f, at)
	}
	if a.Type == nil {
		return nil, fmt.Errorf("%s: neither type nor nested_type", at)
	}
	var t any
	if err := json.Unmarshal(a.Type, &t); err != nil {
		return nil, fmt.Errorf("%s: type: %w", at, err)
	}
	typ, err := typeOf(t, at)
	if err != nil {
		return nil, err
	}
	switch typ := typ.(type) {
	case types.ListType:
		return schema.ListAttribute{ElementType: typ.ElemType, Required: f.required, Optional: f.optional, Computed: f.computed, Sensitive: f.sensitive, Description: f.description, MarkdownDescription: f.markdown, DeprecationMessage: f.deprecation}, nil
	case types.SetType:
		return schema.SetAttribute{ElementType: typ.ElemType, Required: f.required, Optional: f.optional, Computed: f.computed, Sensitive: f.sensitive, Description: f.description, MarkdownDescription: f.markdown, DeprecationMessage: f.deprecation}, nil
	case types.MapType:
		return schema.MapAttribute{ElementType: typ.ElemType, Required: f.required, Optional: f.optional, Computed: f.computed, Sensitive: f.sensitive, Description: f.description, MarkdownDescription: f.markdown, DeprecationMessage: f.deprecation}, nil
	case types.ObjectType:
		return schema.ObjectAttribute{AttributeTypes: typ.AttrTypes, Required: f.required, Optional: f.optional, Computed: f.computed, Sensitive: f.sensitive, Description: f.description, MarkdownDescription: f.markdown, DeprecationMessage: f.deprecation}, nil
	}
	switch typ {
	case types.StringType:
		return schema.StringAttribute{Required: f.required, Optional: f.optional, Computed: f.computed, Sensitive: f.sensitive, Description: f.description, MarkdownDescription: f.markdown, DeprecationMessage: f.deprecation}, nil
	case types.BoolType:
		return schema.BoolAttribute{Required: f.required, Optional: f.optional, Computed: f.computed, Sensitive: f.sensitive, Description: f.description, MarkdownDescription: f.markdown, DeprecationMessage: f.deprecation}, nil
	case types.NumberType:
		return schema.NumberAttribute{Required: f.required, Optional: f.optional, Computed: f.computed, Sensitive: f.sensitive, Description: f.description, MarkdownDescription: f.markdown, DeprecationMessage: f.deprecation}, nil
	case types.DynamicType:
		return schema.DynamicAttribute{Required: f.required, Optional: f.optional, Computed: f.computed, Sensitive: f.sensitive, Description: f.description, MarkdownDescription: f.markdown, DeprecationMessage: f.deprecation}, nil
	}
	return nil, fmt.Errorf("%s: type %s cannot be an attribute's type", at, a.Type)
}

func nestedAttribute(n nestedJSON, f flags, at string) (schema.Attribute, error) {
	attrs, err := attributes(n.Attributes, at)
	if err != nil {
		return nil, err
	}
	object := schema.NestedAttributeObject{Attributes: attrs}
	switch n.NestingMode {
	case "single":
		return schema.SingleNestedAttribute{Attributes: attrs, Required: f.required, Optional: f.optional, Computed: f.computed, Sensitive: f.sensitive, Description: f.description, MarkdownDescription: f.markdown, DeprecationMessage: f.deprecation}, nil
	case "list":
		return schema.ListNestedAttribute{NestedObject: object, Required: f.required, Optional: f.optional, Computed: f.computed, Sensitive: f.sensitive, Description: f.description, MarkdownDescription: f.markdown, DeprecationMessage: f.deprecation}, nil
	case "set":
		return schema.SetNestedAttribute{NestedObject: object, Required: f.required, Optional: f.optional, Computed: f.computed, Sensitive: f.sensitive, Description: f.description, MarkdownDescription: f.markdown, DeprecationMessage: f.deprecation}, nil
	case "map":
		return schema.MapNestedAttribute{NestedObject: object, Required: f.required, Optional: f.optional, Computed: f.computed, Sensitive: f.sensitive, Description: f.description, MarkdownDescription: f.markdown, DeprecationMessage: f.deprecation}, nil
	}
	return nil, fmt.Errorf("%s: nested_type nesting_mode %q is not single, list, set or map", at, n.NestingMode)
}

func blocks(in map[string]blockTypeJSON, at string) (map[string]schema.Block, error) {
	out := make(map[string]schema.Block, len(in))
	for name, b := range in {
		path := at + "." + name
		attrs, err := attributes(b.Block.Attributes, path)
		if err != nil {
			return nil, err
		}
		nested, err := blocks(b.Block.BlockTypes, path)
		if err != nil {
			return nil, err
		}
		plain, markdown := describe(b.Block.Description, b.Block.DescriptionKind)
		deprecation := ""
		if b.Block.Deprecated {
			deprecation = "deprecated"
		}
		object := schema.NestedBlockObject{Attributes: attrs, Blocks: nested}
		switch b.NestingMode {
		case "single":
			out[name] = schema.SingleNestedBlock{Attributes: attrs, Blocks: nested, Description: plain, MarkdownDescription: markdown, DeprecationMessage: deprecation}
		case "list":
			out[name] = schema.ListNestedBlock{NestedObject: object, Description: plain, MarkdownDescription: markdown, DeprecationMessage: deprecation}
		case "set":
			out[name] = schema.SetNestedBlock{NestedObject: object, Description: plain, MarkdownDescription: markdown, DeprecationMessage: deprecation}
		default:
			return nil, fmt.Errorf("%s: block nesting_mode %q is not single, list or set", path, b.NestingMode)
		}
	}
	return out, nil
}

// typeOf converts a JSON type constraint ("string", ["list", T],
// ["object", {...}], ...) into the framework's type.
func typeOf(t any, at string) (attr.Type, error) {
	switch t := t.(type) {
	case string:
		switch t {
		case "string":
			return types.StringType, nil
		case "bool":
			return types.BoolType, nil
		case "number":
			return types.NumberType, nil
		case "dynamic":
			return types.DynamicType, nil
		}
	case []any:
		if len(t) != 2 {
			break
		}
		kind, _ := t[0].(string)
		switch kind {
		case "list", "set", "map":
			elem, err := typeOf(t[1], at)
			if err != nil {
				return nil, err
			}
			switch kind {
			case "list":
				return types.ListType{ElemType: elem}, nil
			case "set":
				return types.SetType{ElemType: elem}, nil
			default:
				return types.MapType{ElemType: elem}, nil
			}
		case "object":
			fields, ok := t[1].(map[string]any)
			if !ok {
				break
			}
			attrTypes := make(map[string]attr.Type, len(fields))
			for name, ft := range fields {
				converted, err := typeOf(ft, at+"."+name)
				if err != nil {
					return nil, err
				}
				attrTypes[name] = converted
			}
			return types.ObjectType{AttrTypes: attrTypes}, nil
		case "tuple":
			elems, ok := t[1].([]any)
			if !ok {
				break
			}
			elemTypes := make([]attr.Type, 0, len(elems))
			for _, et := range elems {
				converted, err := typeOf(et, at)
				if err != nil {
					return nil, err
				}
				elemTypes = append(elemTypes, converted)
			}
			return types.TupleType{ElemTypes: elemTypes}, nil
		}
	}
	return nil, fmt.Errorf("%s: unsupported type constraint %v", at, t)
}
