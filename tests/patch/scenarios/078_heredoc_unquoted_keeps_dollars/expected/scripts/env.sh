echo "home is $HOME, today is `date`"
