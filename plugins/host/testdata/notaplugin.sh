#!/bin/sh
echo "I am just a shell script"
