export declare class Stream<T> {
    constructor(source?: (sink: Sink<T>) => Teardown);
    listen(sink?: Partial<Sink<T>>): Handle;
    close(): void;
}

export declare function peek<T>(sink?: Partial<PeekSink<T>>): Step<T>;

export declare function count<T>(limit: number): Step<T>;
