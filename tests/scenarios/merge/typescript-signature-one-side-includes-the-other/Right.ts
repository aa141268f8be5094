export declare class Stream<T> {
    constructor(source?: (sink: Sink<T>) => Teardown);
    listen(sinkOrNext?: Partial<Sink<T>> | ((value: T) => void)): Handle;
    close(): void;
}

export declare function peek<T>(sinkOrNext?: Partial<PeekSink<T>> | ((value: T) => void)): Step<T>;

export declare function count<T>(limit: number, skip?: number): Step<T>;
