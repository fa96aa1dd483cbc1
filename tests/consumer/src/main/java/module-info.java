/** A user's module: it reads io.dcls4j and nothing of dcls4j's internals. */
module example.consumer {
    requires io.dcls4j;
}
