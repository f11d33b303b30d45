from newsie.cli import main

main()
