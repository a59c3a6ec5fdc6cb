from buildtool.cli import main

raise SystemExit(main())
