from flinkplat.cli import main

raise SystemExit(main())
