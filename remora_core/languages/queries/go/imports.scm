; One import spec: its path and the local name it binds (absent: the package's own name).
(import_spec name: (_)? @alias path: (_) @path) @import
