package main

// The field numbers of Joinery's protos, checked against the descriptors
// compiled into Teleport's own API module: a message of Joinery's whose
// field (or enum value) carries another name, type or number upstream is a
// failure; fields the module does not have (newer than it) are reported as
// unverified, and so are messages it does not have at all (teleport.join.v1
// is newer than the module).

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	gogoproto "github.com/gogo/protobuf/proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	// Registered for their descriptors.
	_ "github.com/gravitational/teleport/api/client/proto"
	_ "github.com/gravitational/teleport/api/gen/proto/go/teleport/header/v1"
	_ "github.com/gravitational/teleport/api/gen/proto/go/teleport/machineid/v1"
	_ "github.com/gravitational/teleport/api/gen/proto/go/teleport/trust/v1"
	_ "github.com/gravitational/teleport/api/gen/proto/go/teleport/users/v1"
	_ "github.com/gravitational/teleport/api/types"
	_ "github.com/gravitational/teleport/api/types/wrappers"
)

// gogoFiles are registered with gogo's registry (Teleport's legacy protos).
var gogoFiles = []string{
	"teleport/legacy/types/types.proto",
	"teleport/legacy/types/wrappers/wrappers.proto",
	"teleport/legacy/client/proto/authservice.proto",
	"teleport/legacy/client/proto/certs.proto",
	"teleport/legacy/client/proto/joinservice.proto",
}

// protoFiles are registered with google.golang.org/protobuf's registry.
var protoFiles = []string{
	"teleport/header/v1/metadata.proto",
	"teleport/machineid/v1/bot.proto",
	"teleport/machineid/v1/bot_service.proto",
	"teleport/trust/v1/trust_service.proto",
	"teleport/users/v1/users_service.proto",
}

// upstreamFiles loads every file Teleport's module registers that Joinery mirrors.
func upstreamFiles() ([]*descriptorpb.FileDescriptorProto, error) {
	var out []*descriptorpb.FileDescriptorProto
	for _, name := range gogoFiles {
		gz := gogoproto.FileDescriptor(name)
		if gz == nil {
			return nil, fmt.Errorf("%s is not registered", name)
		}
		r, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			return nil, err
		}
		raw, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		fd := &descriptorpb.FileDescriptorProto{}
		if err := proto.Unmarshal(raw, fd); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, fd)
	}
	for _, name := range protoFiles {
		fd, err := protoregistry.GlobalFiles.FindFileByPath(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, protodesc.ToFileDescriptorProto(fd))
	}
	return out, nil
}

// messages indexes a file's messages and enums (nested ones too) by full name.
func index(files []*descriptorpb.FileDescriptorProto) (map[string]*descriptorpb.DescriptorProto, map[string]*descriptorpb.EnumDescriptorProto) {
	msgs := map[string]*descriptorpb.DescriptorProto{}
	enums := map[string]*descriptorpb.EnumDescriptorProto{}
	var walk func(prefix string, ms []*descriptorpb.DescriptorProto, es []*descriptorpb.EnumDescriptorProto)
	walk = func(prefix string, ms []*descriptorpb.DescriptorProto, es []*descriptorpb.EnumDescriptorProto) {
		for _, e := range es {
			enums[prefix+e.GetName()] = e
		}
		for _, m := range ms {
			name := prefix + m.GetName()
			msgs[name] = m
			walk(name+".", m.GetNestedType(), m.GetEnumType())
		}
	}
	for _, f := range files {
		walk(f.GetPackage()+".", f.GetMessageType(), f.GetEnumType())
	}
	return msgs, enums
}

// skipped are files Joinery compiles but does not mirror from Teleport.
func skipped(file string) bool {
	return strings.HasPrefix(file, "google/") || strings.HasPrefix(file, "gogoproto/")
}

// fieldShape is what must agree for a field: its type (and message or enum
// type name) and whether it repeats.
func fieldShape(f *descriptorpb.FieldDescriptorProto) string {
	shape := strings.TrimPrefix(f.GetType().String(), "TYPE_")
	if n := f.GetTypeName(); n != "" {
		shape += " " + strings.TrimPrefix(n, ".")
	}
	if f.GetLabel() == descriptorpb.FieldDescriptorProto_LABEL_REPEATED {
		shape = "repeated " + shape
	}
	return shape
}

// checkProtos compares Joinery's compiled descriptors (a FileDescriptorSet
// file) with Teleport's and prints one line per message:
//
//	proto verified <message>
//	proto partial <message> unverified=<field>(<number>),…
//	proto absent <message>
//
// and a FAIL line for each disagreement.
func checkProtos(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	ours := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(raw, ours); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	theirs, err := upstreamFiles()
	if err != nil {
		return err
	}
	upMsgs, upEnums := index(theirs)
	var mine []*descriptorpb.FileDescriptorProto
	for _, f := range ours.GetFile() {
		if !skipped(f.GetName()) {
			mine = append(mine, f)
		}
	}
	ourMsgs, ourEnums := index(mine)
	var problems []string

	names := make([]string, 0, len(ourMsgs))
	for n := range ourMsgs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		m := ourMsgs[name]
		if m.GetOptions().GetMapEntry() {
			continue
		}
		up, ok := upMsgs[name]
		if !ok {
			fmt.Printf("proto absent %s\n", name)
			continue
		}
		byNumber := map[int32]*descriptorpb.FieldDescriptorProto{}
		byName := map[string]*descriptorpb.FieldDescriptorProto{}
		for _, f := range up.GetField() {
			byNumber[f.GetNumber()] = f
			byName[f.GetName()] = f
		}
		var unverified []string
		for _, f := range m.GetField() {
			u, ok := byNumber[f.GetNumber()]
			switch {
			case !ok:
				if other, named := byName[f.GetName()]; named {
					problems = append(problems, fmt.Sprintf("%s.%s is %d here, %d in Teleport's module", name, f.GetName(), f.GetNumber(), other.GetNumber()))
				} else {
					unverified = append(unverified, fmt.Sprintf("%s(%d)", f.GetName(), f.GetNumber()))
				}
			case u.GetName() != f.GetName():
				problems = append(problems, fmt.Sprintf("%s field %d is %q here, %q in Teleport's module", name, f.GetNumber(), f.GetName(), u.GetName()))
			case fieldShape(u) != fieldShape(f):
				problems = append(problems, fmt.Sprintf("%s.%s (%d) is %s here, %s in Teleport's module", name, f.GetName(), f.GetNumber(), fieldShape(f), fieldShape(u)))
			}
		}
		if len(unverified) == 0 {
			fmt.Printf("proto verified %s\n", name)
		} else {
			fmt.Printf("proto partial %s unverified=%s\n", name, strings.Join(unverified, ","))
		}
	}

	enumNames := make([]string, 0, len(ourEnums))
	for n := range ourEnums {
		enumNames = append(enumNames, n)
	}
	sort.Strings(enumNames)
	for _, name := range enumNames {
		up, ok := upEnums[name]
		if !ok {
			fmt.Printf("proto absent %s\n", name)
			continue
		}
		values := map[int32]string{}
		for _, v := range up.GetValue() {
			values[v.GetNumber()] = v.GetName()
		}
		var unverified []string
		for _, v := range ourEnums[name].GetValue() {
			u, ok := values[v.GetNumber()]
			switch {
			case !ok:
				unverified = append(unverified, fmt.Sprintf("%s(%d)", v.GetName(), v.GetNumber()))
			case u != v.GetName():
				problems = append(problems, fmt.Sprintf("%s value %d is %q here, %q in Teleport's module", name, v.GetNumber(), v.GetName(), u))
			}
		}
		if len(unverified) == 0 {
			fmt.Printf("proto verified %s\n", name)
		} else {
			fmt.Printf("proto partial %s unverified=%s\n", name, strings.Join(unverified, ","))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d field numbers disagree with Teleport's module:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	return nil
}
