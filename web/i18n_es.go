package web

// spanish translates the resident pages' English texts into Spanish.
var spanish = map[string]string{}
