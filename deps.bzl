"""sinkscope_dependencies(): the external repositories sinkscope's BUILD files need.

For workspaces that depend on sinkscope (see examples/consumer/). Everything stays offline, as in
sinkscope's own WORKSPACE: the rules_cc shim and the coverage stub come from sinkscope's
third_party/ (found through this file's own repository, whatever path or name it has), rules_java
from Debian's bazel-rules-java, and @system is /usr with sinkscope's system.BUILD.

Example (a consumer's WORKSPACE):
    local_repository(name = "sinkscope", path = "../..")
    load("@sinkscope//:deps.bzl", "sinkscope_dependencies")
    sinkscope_dependencies()
"""

def _sinkscope_dir_impl(ctx):
    # The repository holding this file (sinkscope), then one of its directories, linked entry by
    # entry so that it becomes a repository of its own.
    root = ctx.path(Label("//:WORKSPACE")).dirname
    src = root
    for part in ctx.attr.subdir.split("/"):
        src = src.get_child(part)
    for entry in src.readdir():
        ctx.symlink(entry, entry.basename)

_sinkscope_dir = repository_rule(
    implementation = _sinkscope_dir_impl,
    attrs = {"subdir": attr.string(mandatory = True)},
    local = True,
)

def sinkscope_dependencies():
    """Declares rules_cc, rules_java, remote_coverage_tools and system, unless already declared."""
    if not native.existing_rule("rules_cc"):
        _sinkscope_dir(name = "rules_cc", subdir = "third_party/rules_cc")
    if not native.existing_rule("rules_java"):
        native.local_repository(name = "rules_java", path = "/usr/share/bazel/rules/java")
    if not native.existing_rule("remote_coverage_tools"):
        _sinkscope_dir(name = "remote_coverage_tools", subdir = "third_party/remote_coverage_tools")
    if not native.existing_rule("system"):
        native.new_local_repository(
            name = "system",
            build_file = str(Label("//third_party/system:system.BUILD")),
            path = "/usr",
        )
