"""sinkscope_cc_proto: C++ code for one .proto with the system protoc (Protocol Buffers 3.21).

Bazel 4 cannot fetch com_google_protobuf here, so the generated code comes from a genrule that
runs /usr/bin/protoc (the same 3.21.12 release as libprotobuf) and a cc_library around it.

Example:
    load("//proto:proto.bzl", "sinkscope_cc_proto")
    sinkscope_cc_proto(name = "sinkscope_cc_proto", src = "sinkscope.proto")
    # C++: #include "proto/sinkscope.pb.h"
"""

def sinkscope_cc_proto(name, src, deps = [], visibility = None):
    if not src.endswith(".proto"):
        fail("sinkscope_cc_proto: src must be a .proto file, got " + src)
    base = src[:-len(".proto")]

    # Paths relative to the repository root, also when sinkscope is an external repository of
    # another workspace (examples/consumer): the generated code then includes "proto/x.pb.h".
    repo = native.repository_name()
    root = "." if repo == "@" else "external/" + repo[1:]
    out = "$(GENDIR)" if root == "." else "$(GENDIR)/" + root
    native.genrule(
        name = name + "_protoc",
        srcs = [src],
        outs = [base + ".pb.h", base + ".pb.cc"],
        tools = ["@system//:protoc"],
        cmd = "$(location @system//:protoc) --proto_path=%s --cpp_out=%s $(location %s)" % (root, out, src),
    )
    native.cc_library(
        name = name,
        srcs = [base + ".pb.cc"],
        hdrs = [base + ".pb.h"],
        # Generated code: protoc's output is not ours to fix.
        copts = ["-Wno-unused-parameter"],
        deps = deps + ["@system//:protobuf"],
        visibility = visibility,
    )
