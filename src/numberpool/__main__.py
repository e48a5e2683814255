from numberpool.cli import main

raise SystemExit(main())
