"""Rich menus: objects, images, default and per-user links, bulk and batch jobs, aliases."""
