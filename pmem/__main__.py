from pmem.cli.entry import main

main()
